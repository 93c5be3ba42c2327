#include "daemon/background_moves.h"

namespace mailreqd {

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
  Status s = Settle();
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
  jobs_.push_back({uids, folder, reader_->uidvalidity()});
  // Started at the first move, not when built: a reload builds the new engine while the
  // process still changes its TZ (UseZoneForProcess), which no thread may overlap.
  if (!thread_.joinable()) thread_ = std::thread([this] { Work(); });
  cv_.notify_all();
  return Status::Ok();
}

Result<bool> BackgroundMoves::WaitForMail(int seconds, const volatile bool* stop) {
  return reader_->WaitForMail(seconds, stop);
}

Status BackgroundMoves::Settle() {
  std::unique_lock<std::mutex> lock(mu_);
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
    // Stopping drops what is queued: that mail is recorded, and the next start moves it.
    // Only the move in hand is finished, so SIGTERM is not held up by a slow server.
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    Status s = Run(job);
    lock.lock();
    busy_ = false;
    if (!s.ok() && error_.ok()) error_ = s;
    cv_.notify_all();
  }
}

Status BackgroundMoves::Run(const Job& job) {
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
