// Kill -9 a process in the middle of committing, again and again, then check that the
// database holds only whole Changes. The writer is a fork()ed child of the test binary;
// it touches only SQLite and leaves with _exit (no Catch2, no atexit, no LeakSanitizer).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

#include "daemon/sqlite_store.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::OpenStore;
using testing::RawDb;
using testing::TempDir;

constexpr int kSubscriptions = 5;
constexpr int kKills = 20;

// One Change touching everything a cancellation touches: request, subscription, audit,
// outbox. The audit's new_value is the ends_on written, so the parent can check that
// the last audited value is the one stored.
Change CrashChange(int child, int n) {
  Change c = testing::SampleChange(child * 1000000 + n);
  Subscription s = testing::SampleSubscription("alice", "s" + std::to_string(n % kSubscriptions));
  s.id = n % kSubscriptions + 1;
  s.status = "cancelling";
  s.ends_on = AddDays(Date{2026, 1, 1}, child * 1000 + n);
  c.subscription_update = s;
  c.audit.push_back({"alice@example.com", "subscription:" + std::to_string(s.id), "ends_on", "",
                     IsoDate(*s.ends_on)});
  return c;
}

[[noreturn]] void WriteUntilKilled(const std::string& path, int child) {
  auto store = SqliteStore::Open(path);
  if (!store.ok()) ::_exit(2);
  for (int n = 0; n < 1000000; ++n) {
    Status s = (*store)->Commit(CrashChange(child, n));
    if (!s.ok() && !s.transient()) ::_exit(3);
  }
  ::_exit(0);
}

void Seed(const std::string& path) {
  auto store = OpenStore(path);
  REQUIRE(store->UpsertCustomers({testing::SampleCustomer("alice")}).ok());
  std::vector<Subscription> subs;
  for (int i = 0; i < kSubscriptions; ++i) {
    subs.push_back(testing::SampleSubscription("alice", "s" + std::to_string(i)));
  }
  REQUIRE(store->UpsertSubscriptions(subs).ok());
}

}  // namespace

TEST_CASE("SqliteStore survives SIGKILL mid-commit with whole Changes only", "[sqlite][crash]") {
  TempDir dir;
  const std::string path = dir.File("crash.db");
  Seed(path);  // closed again before fork: the child must not inherit a connection
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(5, 120);
  for (int child = 1; child <= kKills; ++child) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) WriteUntilKilled(path, child);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("child " << child << " status " << status);
    REQUIRE((WIFSIGNALED(status) || WEXITSTATUS(status) == 0));
  }

  RawDb raw(path);
  CHECK(raw.Text("PRAGMA integrity_check") == "ok");
  CHECK(raw.Text("PRAGMA foreign_key_check") == "");
  const int64_t requests = raw.Int("SELECT count(*) FROM requests");
  CHECK(requests > 0);
  CHECK(raw.Int("SELECT count(*) FROM audit") == requests);
  CHECK(raw.Int("SELECT count(*) FROM outbox") == requests);
  CHECK(raw.Int("SELECT count(*) FROM requests r WHERE"
                " (SELECT count(*) FROM audit a WHERE a.request_id = r.id) != 1 OR"
                " (SELECT count(*) FROM outbox o WHERE o.request_id = r.id) != 1") == 0);
  // Each subscription holds exactly the value its latest audit entry recorded.
  CHECK(raw.Int("SELECT count(*) FROM subscriptions s WHERE s.ends_on IS NOT"
                " (SELECT a.new_value FROM audit a WHERE a.entity = 'subscription:' || s.id"
                "  ORDER BY a.id DESC LIMIT 1)") == 0);
  auto store = OpenStore(path);
  CHECK(store->DueReplies(INT64_MAX, 100000)->size() == static_cast<size_t>(requests));
}

}  // namespace mailreqd
