// SqliteStore: processing attempts per mailbox message (poison-message detection), and
// the counts behind the reply rate limits.
#include "daemon/sqlite_statement.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

constexpr const char* kAttempts = "SELECT count FROM attempts WHERE key = ?";
constexpr const char* kAddAttempt =
    "INSERT INTO attempts (key, count) VALUES (?, 1)"
    " ON CONFLICT (key) DO UPDATE SET count = count + 1";
constexpr const char* kClearAttempt = "DELETE FROM attempts WHERE key = ?";
// Two statements rather than one with "?2 = '' OR ...", which SQLite cannot answer from
// an index.
constexpr const char* kSentSince =
    "SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at >= ?1";
constexpr const char* kSentToSince =
    "SELECT count(*) FROM outbox WHERE recipient = ?2 COLLATE NOCASE AND status = 'sent'"
    " AND sent_at >= ?1";

}  // namespace

Result<int> SqliteStore::Attempts(const std::string& key) {
  Query q = Prepare(kAttempts);
  q.BindText(key);
  int count = q.Step() ? static_cast<int>(q.Int(0)) : 0;
  if (!q.status().ok()) return q.status();
  return count;
}

Result<int> SqliteStore::SentSince(const std::string& recipient, int64_t since) {
  Query q = Prepare(recipient.empty() ? kSentSince : kSentToSince);
  q.BindInt(since);
  if (!recipient.empty()) q.BindText(recipient);
  int count = q.Step() ? static_cast<int>(q.Int(0)) : 0;
  if (!q.status().ok()) return q.status();
  return count + JournaledSince(recipient, since);
}

// Attempt counts find mail that kills the process, and what write(2) wrote survives that
// without an fsync; a power cut costing the last counts costs one more try. They go out
// with the next durable commit (the chunk's), as WAL frames in order.
Status SqliteStore::AddAttempt(const std::vector<std::string>& keys) {
  return WithoutFsync([&] { return RunForEach(kAddAttempt, keys); });
}

Status SqliteStore::ClearAttempts(const std::vector<std::string>& keys) {
  return WithoutFsync([&] { return RunForEach(kClearAttempt, keys); });
}

Status SqliteStore::RunForEach(const char* sql, const std::vector<std::string>& keys) {
  Transaction tx(db_.get());
  if (!tx.status().ok()) return tx.status();
  for (const auto& key : keys) {
    Status s = Prepare(sql).BindText(key).Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

}  // namespace mailreqd
