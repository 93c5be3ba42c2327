#include "daemon/send_loop.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/fakes/fake_ports.h"
#include "tests/fakes/fake_store.h"

namespace mailreqd {

TEST_CASE("SendLoop runs a requested checkpoint on its own thread, soon, at a lower priority",
          "[send_loop]") {
  FakeStore store;
  FakeSender sender;
  FakeClock clock;
  Config config;
  Outbox outbox{store, sender, clock, config};
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  std::thread::id ran_on;
  int ran_at_nice = -100;
  SendLoop loop(outbox, 5, false, nullptr);
  loop.SetCheckpoint([&] {
    std::lock_guard<std::mutex> lock(mu);
    ++runs;
    ran_on = std::this_thread::get_id();
    ran_at_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    cv.notify_all();
  });
  // The loop is asleep (its tick is 5 s): the request must wake it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto asked = std::chrono::steady_clock::now();
  loop.RequestCheckpoint();
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(3), [&] { return runs > 0; }));
  CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(1));
  CHECK(ran_on != std::this_thread::get_id());
  // Below the drain's priority (send_loop.cc), as far as nice goes.
  const int ours = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  CHECK(ran_at_nice == std::min(ours + 10, 19));
}

}  // namespace mailreqd
