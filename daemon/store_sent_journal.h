// SentJournal: the replies an SMTP server accepted, appended to a small file beside the
// database ("<database>-sent") with one write(2) per group, until SqliteStore folds them
// into the outbox in one transaction (sqlite_store_marks.cc).
//
// Why a file: the sender records what the server accepted before it sends anything more
// on that session, so that a crash re-sends at most one reply per session. A SQLite
// transaction per group of accepted replies cost about a tenth of a drain's CPU and took
// the write lock that the reading thread's commits wait for. What write(2) wrote survives
// the process dying (the kernel holds the bytes), which is what those marks promised
// (synchronous=NORMAL); neither survives a power cut, after which those replies go out
// again with their same Message-IDs.
//
// One connection owns the file at a time: TryOpen takes an flock(2), which a second open
// of the file, in this process or another, does not get.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"
#include "daemon/unique_fd.h"

namespace mailreqd {

// One outbox row the server accepted: what MarkReplies writes for a sent reply.
struct SentMark {
  int64_t id = 0;
  int attempts = 0;
  int64_t sent_at = 0;
  bool operator==(const SentMark&) const = default;
};

// "id attempts sent_at\n" per mark.
std::string FormatSentMarks(std::span<const SentMark> marks);
// The marks of whole lines, in order. Reading stops at the first line that is not one
// (the end of a write a power cut cut short): those replies are sent again.
std::vector<SentMark> ParseSentMarks(std::string_view text);

class SentJournal {
 public:
  // Opens (creating) and locks `path`. nullopt when another holder has the lock;
  // Transient on an I/O error.
  static Result<std::optional<SentJournal>> TryOpen(const std::string& path);

  // One write(2) of all of `marks`, at the end of the file; on failure the file is as
  // it was.
  Status Append(std::span<const SentMark> marks);
  // Everything the file holds (a fresh holder: what the last one left unfolded).
  Result<std::vector<SentMark>> ReadAll() const;
  // Empties the file, once its marks are in the database.
  Status Clear();

 private:
  SentJournal(UniqueFd fd, std::string path, off_t size)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size) {}

  UniqueFd fd_;
  std::string path_;
  off_t size_ = 0;  // of the whole lines written: a failed append is cut back to it
};

}  // namespace mailreqd
