// SqliteStore::Backup takes a consistent copy while another connection keeps writing.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "daemon/sqlite_store.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {

using testing::OpenStore;
using testing::RawDb;
using testing::SampleChange;
using testing::TempDir;

TEST_CASE("SqliteStore Backup copies a consistent snapshot while another writes",
          "[sqlite][backup]") {
  TempDir dir;
  const std::string path = dir.File("live.db");
  auto reader = OpenStore(path);
  std::atomic<int> committed{0};
  std::atomic<bool> failed{false};
  constexpr int kWrites = 200;
  std::thread writer([&] {
    auto store = SqliteStore::Open(path);
    if (!store.ok()) {
      failed = true;
      return;
    }
    for (int n = 0; n < kWrites; ++n) {
      if (!(*store)->Commit(SampleChange(n)).ok()) failed = true;
      ++committed;
    }
  });
  while (committed < 20) std::this_thread::yield();
  std::vector<std::string> copies;
  for (int i = 0; i < 3; ++i) {
    copies.push_back(dir.File("copy" + std::to_string(i) + ".db"));
    Status s = reader->Backup(copies.back());
    INFO(s.message());
    CHECK(s.ok());
  }
  writer.join();
  REQUIRE_FALSE(failed);

  for (const std::string& copy : copies) {
    for (const char* leftover : {".tmp", ".tmp-journal", ".tmp-wal", "-wal"}) {
      CHECK_FALSE(std::filesystem::exists(copy + leftover));
    }
    RawDb raw(copy);
    CHECK(raw.Text("PRAGMA integrity_check") == "ok");
    const int64_t requests = raw.Int("SELECT count(*) FROM requests");
    CHECK(requests >= 20);
    CHECK(requests <= kWrites);
    CHECK(raw.Int("SELECT count(*) FROM outbox") == requests);
    CHECK(raw.Int("SELECT count(*) FROM requests r WHERE NOT EXISTS"
                  " (SELECT 1 FROM outbox o WHERE o.request_id = r.id)") == 0);
  }
  auto restored = OpenStore(copies.back());
  CHECK(restored->FindRequest(SampleChange(0).request.key)->has_value());
}

TEST_CASE("SqliteStore Backup to an impossible path fails and leaves nothing", "[sqlite][backup]") {
  TempDir dir;
  auto store = OpenStore(dir.File("live.db"));
  Status s = store->Backup(dir.File("no/such/dir/copy.db"));
  CHECK_FALSE(s.ok());
}

}  // namespace mailreqd
