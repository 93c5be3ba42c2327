#include "daemon/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "daemon/unique_fd.h"

namespace mailreqd {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Transient(ErrnoText(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string ErrnoText(int err) { return std::generic_category().message(err); }

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return Status::Transient("fsync of directory " + dir + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status ReplaceFileDurably(const std::string& path, const std::string& tmp_path,
                          const std::string& text) {
  UniqueFd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return Status::Transient("create " + tmp_path + ": " + ErrnoText(errno));
  Status s = WriteAll(fd.get(), text);
  if (!s.ok()) return Status::Transient("write " + tmp_path + ": " + s.message());
  if (::fsync(fd.get()) != 0) {
    return Status::Transient("fsync " + tmp_path + ": " + ErrnoText(errno));
  }
  fd.Reset();
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    return Status::Transient("rename " + tmp_path + " to " + path + ": " + ErrnoText(errno));
  }
  return SyncDirectory(DirOf(path));
}

}  // namespace mailreqd
