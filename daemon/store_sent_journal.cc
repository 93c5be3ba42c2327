#include "daemon/store_sent_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <system_error>

namespace mailreqd {
namespace {

// The number at the start of `text`, which must end with `sep`; advances past both.
template <typename T>
bool TakeNumber(std::string_view& text, char sep, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data() + text.size() || *end != sep) return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()) + 1);
  return true;
}

// What the failed call `what` on `path` met, from errno.
Status IoFailed(const char* what, const std::string& path) {
  return Status::Transient(std::string(what) + " " + path + ": " +
                           std::generic_category().message(errno));
}

}  // namespace

std::string FormatSentMarks(std::span<const SentMark> marks) {
  std::string out;
  out.reserve(marks.size() * 24);
  for (const SentMark& m : marks) {
    out += std::to_string(m.id) + ' ' + std::to_string(m.attempts) + ' ' +
           std::to_string(m.sent_at) + '\n';
  }
  return out;
}

std::vector<SentMark> ParseSentMarks(std::string_view text) {
  std::vector<SentMark> marks;
  for (;;) {
    SentMark m;
    if (!TakeNumber(text, ' ', m.id) || !TakeNumber(text, ' ', m.attempts) ||
        !TakeNumber(text, '\n', m.sent_at)) {
      return marks;
    }
    marks.push_back(m);
  }
}

Result<std::optional<SentJournal>> SentJournal::TryOpen(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return IoFailed("open", path);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::optional<SentJournal>();
    return IoFailed("lock", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return IoFailed("stat", path);
  }
  return std::optional<SentJournal>(SentJournal(std::move(fd), path, st.st_size));
}

Status SentJournal::Append(std::span<const SentMark> marks) {
  const std::string text = FormatSentMarks(marks);
  const ssize_t n = ::write(fd_.get(), text.data(), text.size());
  if (n == static_cast<ssize_t>(text.size())) {
    size_ += n;
    return Status::Ok();
  }
  if (n >= 0) errno = ENOSPC;  // a short write to a regular file: the disk is full
  Status failed = IoFailed("write", path_);
  // A cut line must not stay: the next append would complete it into another id.
  if (::ftruncate(fd_.get(), size_) != 0) return IoFailed("truncate", path_);
  return failed;
}

Result<std::vector<SentMark>> SentJournal::ReadAll() const {
  std::string text;
  char buf[1 << 14];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd_.get(), buf, sizeof buf, at);
    if (n < 0) return IoFailed("read", path_);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return ParseSentMarks(text);
}

Status SentJournal::Clear() {
  if (::ftruncate(fd_.get(), 0) != 0) return IoFailed("truncate", path_);
  size_ = 0;
  return Status::Ok();
}

}  // namespace mailreqd
