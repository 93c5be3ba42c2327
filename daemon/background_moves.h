// BackgroundMoves: the IMAP mailbox with its moves on a second session and a thread of
// their own, so that the server moving one chunk overlaps our work on the next. MOVE can
// be a drain's slowest step: a server that copies each mail (Dovecot does, between
// Maildir folders of different permissions) moved under 2,000 mails/s here, where it
// fetches 15,000/s. It is safe to defer: a chunk is moved only once it is recorded, and
// a recorded mail still in the inbox is only moved again.
//  - Move() queues and returns at once, with the error of an earlier background move if
//    there was one (the drain then stops and retries, as after any mailbox error).
//  - Pending() waits for the moves in flight first, so a listing never shows mail that
//    is already dealt with.
//  - A move whose session sees another UIDVALIDITY than the reader's is refused: its UIDs
//    would name other mail.
// Fetch() and WaitForMail() are the reader's. Not thread-safe itself: one caller.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/imap_mailbox.h"

namespace mailreqd {

class BackgroundMoves : public Mailbox {
 public:
  BackgroundMoves(std::unique_ptr<ImapMailbox> reader, std::unique_ptr<ImapMailbox> mover);
  ~BackgroundMoves() override;  // finishes the move in hand; queued ones are left for later
  BackgroundMoves(const BackgroundMoves&) = delete;
  BackgroundMoves& operator=(const BackgroundMoves&) = delete;

  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override;
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override;

  // Waits until every queued move is done; returns (and forgets) the first error.
  Status Settle();
  uint64_t commands_sent() const;  // both sessions

 private:
  struct Job {
    std::vector<uint32_t> uids;
    std::string folder;
    uint32_t uidvalidity = 0;
  };
  void Work();
  Status Run(const Job& job);

  std::unique_ptr<ImapMailbox> reader_;
  std::unique_ptr<ImapMailbox> mover_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool busy_ = false;  // a job is being run
  bool stopping_ = false;
  Status error_ = Status::Ok();
  std::thread thread_;
};

}  // namespace mailreqd
