// Schema migrations on a real file: what an older mailreqd left is carried over whole.
#include "daemon/sqlite_schema.h"

#include <catch2/catch.hpp>

#include "daemon/sqlite_store.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::OpenStore;
using testing::PlanOf;
using testing::RawDb;
using testing::TempDir;

// A database as mailreqd left it at schema 4: one request, three replies with their text
// in the outbox row (one due, one due later, one sent).
void WriteVersion4(const std::string& path) {
  RawDb raw(path);
  REQUIRE(MigrateSchemaTo(raw.get(), 4).ok());
  REQUIRE(raw.Int("PRAGMA user_version") == 4);
  raw.Exec("INSERT INTO requests (id, key, arrived, kind, outcome, created_at)"
           " VALUES (1, 'mid:<a@x> alice@example.com', 100, 'unsubscribe', 'done', 100)");
  raw.Exec("INSERT INTO outbox (id, request_id, message_id, recipient, raw, status,"
           " next_attempt_at, sent_at) VALUES"
           " (1, 1, '<r1@x>', 'alice@example.com', CAST('text one' AS BLOB), 'pending', 50, NULL),"
           " (2, 1, '<r2@x>', 'alice@example.com', CAST('text two' AS BLOB), 'pending', 500, NULL),"
           " (3, 1, '<r3@x>', 'alice@example.com', CAST('text three' AS BLOB), 'sent', 60, 70)");
}

}  // namespace

TEST_CASE("Migration 5 moves reply texts out of the outbox and keeps every reply",
          "[sqlite][schema]") {
  TempDir dir;
  const std::string path = dir.File("v4.db");
  WriteVersion4(path);
  auto store = OpenStore(path);

  RawDb raw(path);
  CHECK(raw.Int("PRAGMA user_version") == 5);
  CHECK(raw.Int("SELECT count(*) FROM outbox") == 3);
  CHECK(raw.Int("SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'raw'") == 0);
  CHECK(raw.Text("SELECT raw FROM outbox_raw WHERE id = 3") == "text three");

  auto due = store->DueReplies(100, 10);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 1);
  CHECK(due->front().id == 1);
  CHECK(due->front().raw == "text one");
  CHECK(*store->SentSince("", 70) == 1);
  CHECK(*store->SentSince("ALICE@example.com", 70) == 1);
  CHECK(*store->SentSince("", 71) == 0);
}

TEST_CASE("The outbox's queries are answered from its partial indexes", "[sqlite][schema]") {
  // A reply enters outbox_due while pending and outbox_sent / outbox_recipient_sent once
  // sent; the queries must still find them there rather than read the table.
  TempDir dir;
  const std::string path = dir.File("plan.db");
  { auto store = OpenStore(path); }
  RawDb raw(path);
  const std::string due = PlanOf(
      raw, "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= 5"
           " ORDER BY id LIMIT 10");
  INFO(due);
  CHECK(due.find("INDEX outbox_due (next_attempt_at<?)") != std::string::npos);
  const std::string sent =
      PlanOf(raw, "SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at >= 5");
  INFO(sent);
  CHECK(sent.find("INDEX outbox_sent (sent_at>?)") != std::string::npos);
  const std::string to = PlanOf(
      raw, "SELECT count(*) FROM outbox WHERE recipient = 'a@x' COLLATE NOCASE"
           " AND status = 'sent' AND sent_at >= 5");
  INFO(to);
  CHECK(to.find("INDEX outbox_recipient_sent (recipient=? AND sent_at>?)") != std::string::npos);
}

}  // namespace mailreqd
