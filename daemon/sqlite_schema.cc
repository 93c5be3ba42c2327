#include "daemon/sqlite_schema.h"

#include <algorithm>
#include <array>
#include <string>

#include "daemon/sqlite_statement.h"

namespace mailreqd {
namespace {

// STRICT tables (SQLite >= 3.37) make a type error a constraint failure instead of
// silently storing "2026-02-30" in an INTEGER column.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE customers (
  username TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  postal_address TEXT NOT NULL DEFAULT '',
  telephone TEXT NOT NULL DEFAULT '',
  fax TEXT NOT NULL DEFAULT '',
  marketing_opt_in INTEGER NOT NULL DEFAULT 0 CHECK (marketing_opt_in IN (0, 1))
) STRICT;
CREATE INDEX customers_email ON customers (email COLLATE NOCASE);

CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL REFERENCES customers (username) ON UPDATE CASCADE,
  service TEXT NOT NULL,
  period TEXT NOT NULL CHECK (period IN ('monthly', 'yearly')),
  anchor TEXT NOT NULL,  -- YYYY-MM-DD, local date in the configured zone
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelling', 'ended')),
  ends_on TEXT,          -- YYYY-MM-DD: last day of membership
  UNIQUE (username, service)
) STRICT;

-- One row per mail. username is not a foreign key: it is what the sender claimed.
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL DEFAULT '',
  arrived INTEGER NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  username TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  due_on TEXT,
  folder TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX requests_arrived ON requests (arrived);
CREATE INDEX requests_folder_due ON requests (folder, due_on);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests (id),
  message_id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  raw BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_request ON outbox (request_id);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  request_id INTEGER REFERENCES requests (id),
  actor TEXT NOT NULL,
  entity TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL
) STRICT;
CREATE INDEX audit_request ON audit (request_id);
CREATE INDEX audit_entity ON audit (entity);

CREATE TABLE tokens (
  hash TEXT PRIMARY KEY NOT NULL,
  purpose TEXT NOT NULL,
  username TEXT NOT NULL,
  request_id INTEGER REFERENCES requests (id),
  payload TEXT NOT NULL DEFAULT '',
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) STRICT;

CREATE TABLE suppression (
  email TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
  added_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mailbox_state (
  mailbox TEXT PRIMARY KEY NOT NULL,
  uidvalidity INTEGER NOT NULL,
  last_uid INTEGER NOT NULL
) STRICT;
)sql";

// Processing attempts per message, so that a message that crashes the daemon is
// quarantined after a few tries instead of blocking the mailbox forever.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE attempts (
  key TEXT PRIMARY KEY NOT NULL,  -- "<uidvalidity>:<uid>" of the mailbox
  count INTEGER NOT NULL
) STRICT;
-- Rate limits count the replies sent to an address, or in all, since a moment.
CREATE INDEX outbox_sent ON outbox (status, sent_at);
)sql";

// The per-recipient rate limit is checked before every reply: without this index each
// check walked every reply sent in the last day (quadratic while draining a backlog).
constexpr const char* kMigration3 = R"sql(
CREATE INDEX outbox_recipient_sent ON outbox (recipient COLLATE NOCASE, status, sent_at);
)sql";

// A data-access request lists the account's earlier requests (RequestsOf, oldest first):
// without this index each one read the whole requests table, which only grows.
constexpr const char* kMigration4 = R"sql(
CREATE INDEX requests_username ON requests (username, arrived);
)sql";

// Reply texts apart from their state. Marking a reply sent rewrote its whole row, text
// included: about a page of WAL per reply. And the indexes that only ever look at sent
// replies, or only at pending ones, hold just those rows, so that a new reply enters one
// index instead of three, and being sent moves it out of one and into two.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE outbox_raw (
  id INTEGER PRIMARY KEY REFERENCES outbox (id),
  raw BLOB NOT NULL
) STRICT;
INSERT INTO outbox_raw (id, raw) SELECT id, raw FROM outbox;
ALTER TABLE outbox DROP COLUMN raw;
DROP INDEX outbox_due;
DROP INDEX outbox_sent;
DROP INDEX outbox_recipient_sent;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX outbox_recipient_sent ON outbox (recipient COLLATE NOCASE, sent_at)
  WHERE status = 'sent';
)sql";

constexpr std::array<const char*, 5> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                    kMigration4, kMigration5};

Result<int> UserVersion(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr);
  SqliteStmt stmt(raw);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, "read schema version");
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "read schema version");
  return sqlite3_column_int(stmt.get(), 0);
}

Status TooNew(int found) {
  return Status::Fatal("database schema version " + std::to_string(found) +
                       " is newer than this mailreqd knows (" +
                       std::to_string(LatestSchemaVersion()) + ")");
}

// Applies migration `to` if, inside the write lock, the database is still at to - 1.
Status ApplyMigration(sqlite3* db, int to) {
  Transaction txn(db);
  if (!txn.status().ok()) return txn.status();
  Result<int> current = UserVersion(db);
  if (!current.ok()) return current.status();
  if (*current >= to) return Status::Ok();  // another process got there first
  Status s = SqliteExec(db, kMigrations[to - 1]);
  if (!s.ok()) return Status::Fatal("schema migration " + std::to_string(to) + ": " + s.message());
  // PRAGMA takes no bound parameters; `to` is our own integer.
  s = SqliteExec(db, ("PRAGMA user_version = " + std::to_string(to)).c_str());
  if (!s.ok()) return s;
  return txn.Commit();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Status MigrateSchema(sqlite3* db) { return MigrateSchemaTo(db, LatestSchemaVersion()); }

Status MigrateSchemaTo(sqlite3* db, int version) {
  Result<int> current = UserVersion(db);
  if (!current.ok()) return current.status();
  if (*current > LatestSchemaVersion()) return TooNew(*current);
  for (int to = *current + 1; to <= std::min(version, LatestSchemaVersion()); ++to) {
    Status s = ApplyMigration(db, to);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace mailreqd
