// store_bench: how many requests per second SqliteStore commits, one transaction per
// request versus group commit in batches. Not a test: prints one line per mode.
//
//   store_bench [N] [BATCH]     N requests (default 10000), batches of BATCH (500)
//
// Each request is a Change with one outbox row, written to a fresh file in a temporary
// directory with the production settings (WAL, synchronous=FULL). Links mailreqd_store.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

Change BenchChange(int n) {
  Change c;
  c.request.key = "mid:<bench" + std::to_string(n) + "@example.com>";
  c.request.message_id = "<bench" + std::to_string(n) + "@example.com>";
  c.request.arrived = 1772235000 + n;
  c.request.sender = "customer@example.com";
  c.request.kind = "unsubscribe";
  c.request.outcome = "cancelled";
  c.request.folder = "processed";
  OutboxRow reply;
  reply.message_id = "<reply" + std::to_string(n) + "@mailreqd.example>";
  reply.recipient = "customer@example.com";
  reply.raw = std::string(1500, 'x');  // a typical short reply
  reply.next_attempt_at = c.request.arrived;
  c.replies.push_back(std::move(reply));
  return c;
}

std::unique_ptr<SqliteStore> FreshStore(const std::filesystem::path& dir, const char* name) {
  auto store = SqliteStore::Open((dir / name).string());
  if (!store.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", store.status().message().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

// Commits `changes` in groups of `batch` (1 = one transaction per request); returns
// requests per second.
double Run(SqliteStore& store, const std::vector<Change>& changes, size_t batch) {
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < changes.size(); i += batch) {
    const size_t end = std::min(changes.size(), i + batch);
    Status s = batch == 1 ? store.Commit(changes[i])
                          : store.CommitBatch({changes.begin() + i, changes.begin() + end});
    if (!s.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", s.message().c_str());
      std::exit(1);
    }
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return static_cast<double>(changes.size()) / took.count();
}

}  // namespace
}  // namespace mailreqd

int main(int argc, char** argv) {
  using namespace mailreqd;
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const size_t batch = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 500;
  if (n <= 0 || batch == 0) {
    std::fprintf(stderr, "usage: store_bench [N] [BATCH]\n");
    return 2;
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return 1;
  const std::filesystem::path dir = pattern;

  std::vector<Change> changes;
  changes.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) changes.push_back(BenchChange(i));

  auto single = FreshStore(dir, "single.db");
  const double one = Run(*single, changes, 1);
  auto grouped = FreshStore(dir, "batched.db");
  const double many = Run(*grouped, changes, batch);
  std::printf("one transaction per request: %d requests, %.0f requests/s\n", n, one);
  std::printf("batches of %zu: %d requests, %.0f requests/s\n", batch, n, many);

  single.reset();
  grouped.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
