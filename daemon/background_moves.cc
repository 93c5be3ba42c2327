#include "daemon/background_moves.h"

#include <map>
#include <utility>

namespace mailreqd {

std::vector<MoveJob> MergeMoveJobs(const std::deque<MoveJob>& jobs) {
  std::vector<MoveJob> merged;
  std::map<std::pair<std::string, uint32_t>, size_t> index;  // (folder, uidvalidity)
  for (const MoveJob& job : jobs) {
    auto [at, fresh] = index.try_emplace({job.folder, job.uidvalidity}, merged.size());
    if (fresh) {
      merged.push_back(job);
      continue;
    }
    std::vector<uint32_t>& uids = merged[at->second].uids;
    uids.insert(uids.end(), job.uids.begin(), job.uids.end());
  }
  return merged;
}

BackgroundMoves::BackgroundMoves(std::unique_ptr<ImapMailbox> reader,
                                 std::unique_ptr<ImapMailbox> mover)
    : reader_(std::move(reader)), mover_(std::move(mover)) {}

BackgroundMoves::~BackgroundMoves() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<PendingMessage>> BackgroundMoves::PendingAfter(uint32_t after, size_t limit) {
  // Mail still to move has UIDs up to `after` (a drain goes in UID order): only a listing
  // from the start would show it.
  Status s = after == 0 ? Settle() : Status::Ok();
  if (!s.ok()) return s;
  return reader_->PendingAfter(after, limit);
}

Result<std::vector<RawMessage>> BackgroundMoves::Fetch(const std::vector<uint32_t>& uids) {
  return reader_->Fetch(uids);
}

Status BackgroundMoves::Move(const std::vector<uint32_t>& uids, const std::string& folder) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) {
    Status e = error_;
    error_ = Status::Ok();
    return e;
  }
  if (jobs_.empty()) first_queued_ = std::chrono::steady_clock::now();
  jobs_.push_back({uids, folder, reader_->uidvalidity()});
  queued_uids_ += uids.size();
  // Started at the first move, not when built: a reload builds the new engine while the
  // process still changes its TZ (UseZoneForProcess), which no thread may overlap.
  if (!thread_.joinable()) thread_ = std::thread([this] { Work(); });
  cv_.notify_all();
  return Status::Ok();
}

Result<bool> BackgroundMoves::WaitForMail(int seconds, const volatile bool* stop) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Hurry();  // no more moves are coming meanwhile
  }
  return reader_->WaitForMail(seconds, stop);
}

Status BackgroundMoves::Settle() {
  std::unique_lock<std::mutex> lock(mu_);
  Hurry();
  cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
  Status e = error_;
  error_ = Status::Ok();
  return e;
}

uint64_t BackgroundMoves::commands_sent() const {
  return reader_->commands_sent() + mover_->commands_sent();
}

void BackgroundMoves::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    AwaitDue(lock);
    // Stopping drops what is queued: that mail is recorded, and the next start moves it.
    // Only the moves in hand are finished, so SIGTERM is not held up by a slow server.
    if (stopping_) return;
    const std::vector<MoveJob> jobs = MergeMoveJobs(jobs_);
    jobs_.clear();
    queued_uids_ = 0;
    hurry_ = false;
    busy_ = true;
    lock.unlock();
    Status s = Status::Ok();
    for (const MoveJob& job : jobs) {
      Status moved = Run(job);
      if (s.ok()) s = moved;
    }
    lock.lock();
    busy_ = false;
    if (!s.ok() && error_.ok()) error_ = s;
    cv_.notify_all();
  }
}

void BackgroundMoves::Hurry() {
  if (jobs_.empty()) return;  // an early start for the next moves would merge none
  hurry_ = true;
  cv_.notify_all();
}

void BackgroundMoves::AwaitDue(std::unique_lock<std::mutex>& lock) {
  cv_.wait_until(lock, first_queued_ + kMoveDelay,
                 [this] { return stopping_ || hurry_ || queued_uids_ >= kMoveBatch; });
}

Status BackgroundMoves::Run(const MoveJob& job) {
  Status s = mover_->Ready();
  if (s.ok() && mover_->uidvalidity() != job.uidvalidity) {
    // The folder was recreated: this session may still have the old one selected.
    mover_->Close();
    s = mover_->Ready();
  }
  if (!s.ok()) return s;
  if (mover_->uidvalidity() != job.uidvalidity) {
    // Recreated between listing and moving: these UIDs name other mail.
    return Status::Transient("UIDVALIDITY changed before the move to " + job.folder);
  }
  return mover_->Move(job.uids, job.folder);
}

}  // namespace mailreqd
