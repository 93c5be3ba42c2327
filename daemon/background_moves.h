// BackgroundMoves: the IMAP mailbox with its moves on a second session and a thread of
// their own, so that the server moving one chunk overlaps our work on the next. MOVE can
// be a drain's slowest step: a server that copies each mail (Dovecot does, between
// Maildir folders of different permissions) moved under 2,000 mails/s here, where it
// fetches 15,000/s. It is safe to defer: a chunk is moved only once it is recorded, and
// a recorded mail still in the inbox is only moved again.
//  - Move() queues and returns at once, with the error of an earlier background move if
//    there was one (the drain then stops and retries, as after any mailbox error).
//  - Pending() (a listing from UID 0) waits for the moves in flight first, so that it
//    never shows mail that is already dealt with; later windows of a drain need not.
//  - A move whose session sees another UIDVALIDITY than the reader's is refused: its UIDs
//    would name other mail.
//  - Moves wait to be merged, up to kMoveBatch mails or kMoveDelay, until the reader lists
//    the inbox again or waits for mail: Dovecot syncs the whole folder for each MOVE (in a
//    Maildir it hashes every file name), and a drain's 500-mail moves cost its moving
//    process about twice what serving the mail did.
// Fetch() and WaitForMail() are the reader's. Not thread-safe itself: one caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/imap_mailbox.h"

namespace mailreqd {

// Mail to move to one folder, named by UIDs valid under one UIDVALIDITY.
struct MoveJob {
  std::vector<uint32_t> uids;
  std::string folder;
  uint32_t uidvalidity = 0;
};

// One job per (folder, UIDVALIDITY) of `jobs`, in the order each first appears, with the
// UIDs of all of them. Each UID is moved once, so the order across folders is free.
std::vector<MoveJob> MergeMoveJobs(const std::deque<MoveJob>& jobs);

class BackgroundMoves : public Mailbox {
 public:
  BackgroundMoves(std::unique_ptr<ImapMailbox> reader, std::unique_ptr<ImapMailbox> mover);
  ~BackgroundMoves() override;  // finishes the move in hand; queued ones are left for later
  BackgroundMoves(const BackgroundMoves&) = delete;
  BackgroundMoves& operator=(const BackgroundMoves&) = delete;

  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override;
  void Prefetch(const std::vector<uint32_t>& uids) override { reader_->Prefetch(uids); }
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override;

  // Waits until every queued move is done; returns (and forgets) the first error.
  Status Settle();
  uint64_t commands_sent() const;  // both sessions
  uint64_t bodies_fetched() const { return reader_->bodies_fetched(); }

 private:
  static constexpr size_t kMoveBatch = 1000;
  static constexpr std::chrono::milliseconds kMoveDelay{1000};

  void Work();
  // Holding mu_: the queued moves go now, not merged with later ones.
  void Hurry();
  // Waits, holding `lock`, until the queued moves are due (see the top of this file).
  void AwaitDue(std::unique_lock<std::mutex>& lock);
  Status Run(const MoveJob& job);

  std::unique_ptr<ImapMailbox> reader_;
  std::unique_ptr<ImapMailbox> mover_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<MoveJob> jobs_;
  size_t queued_uids_ = 0;
  std::chrono::steady_clock::time_point first_queued_;
  bool hurry_ = false;  // the reader waits or idles: move what is queued now
  bool busy_ = false;   // jobs are being run
  bool stopping_ = false;
  Status error_ = Status::Ok();
  std::thread thread_;
};

}  // namespace mailreqd
