#include "daemon/send_loop.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include "daemon/log.h"

namespace mailreqd {
namespace {

// How often the outbox is looked at without a Wake(): replies deferred by a transient
// failure come due on their own (backoff starts at 15 s), and one indexed query per tick
// is all an idle daemon spends.
constexpr std::chrono::seconds kTick{5};

// The sending thread yields the cores to the drain: a chunk's replies are sent only once
// it is recorded anyway, and recording it (then moving its mail) is what empties the
// mailbox. At the same priority, the drain's thread spent 0.75 s of a 2.3 s drain of
// 10,000 mails waiting for a core (schedstat) while the sender, the IMAP server and
// the SMTP server took them. Nice +10 still runs the sender whenever a core is free;
// Linux applies nice per thread.
constexpr int kSenderNice = 10;

void LowerThisThreadsPriority(int by) {
  const pid_t tid = gettid();
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno == 0) setpriority(PRIO_PROCESS, static_cast<id_t>(tid), std::min(now + by, 19));
}

}  // namespace

SendLoop::SendLoop(Outbox& outbox, int max_delay_s, bool give_up, const volatile bool* stop)
    : outbox_(outbox), max_delay_s_(max_delay_s), give_up_(give_up), stop_(stop) {
  thread_ = std::thread([this] { Run(); });
}

SendLoop::~SendLoop() { Stop(); }

void SendLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void SendLoop::SetCheckpoint(std::function<void()> checkpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_ = std::move(checkpoint);
}

void SendLoop::RequestCheckpoint() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint_wanted_ = true;
  }
  cv_.notify_one();
}

void SendLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SendLoop::Run() {
  LowerThisThreadsPriority(kSenderNice);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    woken_ = false;
    const bool checkpoint = std::exchange(checkpoint_wanted_, false);
    std::function<void()> run_checkpoint = checkpoint ? checkpoint_ : nullptr;
    lock.unlock();
    if (run_checkpoint) run_checkpoint();
    auto sent = outbox_.SendDue(stop_, max_delay_s_, give_up_);
    if (!sent.ok()) Log(LogLevel::kWarning, "outbox-error", {{"error", sent.status().message()}});
    lock.lock();
    if (!woken_ && !stopping_ && !checkpoint_wanted_) {
      cv_.wait_for(lock, kTick, [this] { return woken_ || stopping_ || checkpoint_wanted_; });
    }
  }
}

}  // namespace mailreqd
