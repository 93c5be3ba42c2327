// SendLoop: runs Outbox::SendDue on a thread of its own, so that replies go out while the
// mailbox drains (a backlog's reading and sending overlap) and an SMTP outage never holds
// up reading. The thread runs at nice +10: when the cores are busy, the drain goes first.
// The Outbox it drives must have a Store and a Sender of its own: nothing else may use
// them while the loop runs.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "daemon/outbox.h"

namespace mailreqd {

class SendLoop {
 public:
  // Starts the thread. `stop` (the process's SIGTERM flag) stops sending between replies.
  SendLoop(Outbox& outbox, int max_delay_s, bool give_up, const volatile bool* stop);
  ~SendLoop();  // Stop()
  SendLoop(const SendLoop&) = delete;
  SendLoop& operator=(const SendLoop&) = delete;

  // New replies were recorded: send now rather than at the next tick. Any thread.
  void Wake();
  // Runs `checkpoint` on the loop's thread, before its next round, each time
  // RequestCheckpoint is called (several calls before it runs count once). Any thread.
  void SetCheckpoint(std::function<void()> checkpoint);
  void RequestCheckpoint();
  // Lets the batch in hand finish, then joins the thread. Idempotent.
  void Stop();

 private:
  void Run();

  Outbox& outbox_;
  const int max_delay_s_;
  const bool give_up_;
  const volatile bool* stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool checkpoint_wanted_ = false;
  std::function<void()> checkpoint_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mailreqd
