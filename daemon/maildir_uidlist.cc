#include "daemon/maildir_uidlist.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "daemon/durable_file.h"
#include "daemon/unique_fd.h"

namespace mailreqd {
namespace {

std::string StatePath(const std::string& root) { return root + "/mailreqd-uidlist"; }

// One positive 32-bit number at `*p`, which is moved past it.
bool ReadNumber(const char*& p, uint32_t& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(p, &end, 10);
  if (end == p || errno != 0 || v == 0 || v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  p = end;
  return true;
}

}  // namespace

Result<MaildirUidList> LoadMaildirUidList(const std::string& root, bool create) {
  std::string path = StatePath(root);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) {
    MaildirUidList fresh;
    fresh.uidvalidity = static_cast<uint32_t>(std::time(nullptr));
    if (!create) return fresh;
    Status s = SaveMaildirUidList(root, fresh);
    if (!s.ok()) return s;
    return fresh;
  }
  if (!fd.valid()) return Status::Transient("read " + path + ": " + ErrnoText(errno));
  char buf[64] = {};
  ssize_t n;
  do {
    n = ::read(fd.get(), buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Transient("read " + path + ": " + ErrnoText(errno));
  MaildirUidList list;
  const char* p = buf;
  if (!ReadNumber(p, list.uidvalidity) || !ReadNumber(p, list.next_uid)) {
    return Status::Permanent(path +
                             ": not \"<uidvalidity> <next_uid>\"; remove it to start "
                             "afresh with a new UIDVALIDITY");
  }
  return list;
}

Status SaveMaildirUidList(const std::string& root, const MaildirUidList& list) {
  // tmp/ is on the Maildir's filesystem by definition, so the rename is atomic.
  return ReplaceFileDurably(
      StatePath(root), root + "/tmp/mailreqd-uidlist.tmp",
      std::to_string(list.uidvalidity) + " " + std::to_string(list.next_uid) + "\n");
}

}  // namespace mailreqd
