#include "daemon/sqlite_statement.h"

#include <utility>

namespace mailreqd {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  // sqlite3_errmsg names tables and columns, never bound values: safe to log.
  std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
      return Status::Transient(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::Fatal(std::move(message));
    default:
      return Status::Permanent(std::move(message));
  }
}

Status SqliteExec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : SqliteStatus(db, rc, sql);
}

Query::Query(sqlite3* db, sqlite3_stmt* stmt, Status prepare_status)
    : db_(db), stmt_(stmt), status_(std::move(prepare_status)) {}

Query::Query(Query&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      status_(std::move(other.status_)),
      next_param_(other.next_param_) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::Check(int rc) {
  if (rc != SQLITE_OK && status_.ok()) status_ = SqliteStatus(db_, rc, "bind");
  ++next_param_;
  return *this;
}

Query& Query::BindInt(int64_t v) {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_int64(stmt_, next_param_, v));
}

// SQLITE_TRANSIENT: the caller's string may be a temporary that dies before Step().
Query& Query::BindText(std::string_view v) {
  if (!status_.ok()) return *this;
  return Check(
      sqlite3_bind_text64(stmt_, next_param_, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Query& Query::BindBlob(std::string_view v) {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_blob64(stmt_, next_param_, v.data(), v.size(), SQLITE_TRANSIENT));
}

Query& Query::BindNull() {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_null(stmt_, next_param_));
}

Query& Query::BindOptText(const std::optional<std::string>& v) {
  return v ? BindText(*v) : BindNull();
}

Query& Query::BindOptInt(const std::optional<int64_t>& v) { return v ? BindInt(*v) : BindNull(); }

bool Query::Step() {
  if (!status_.ok()) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqliteStatus(db_, rc, "step");
  return false;
}

Status Query::Run() {
  while (Step()) {
  }
  return status_;
}

std::string Query::Text(int col) const {
  // Works for TEXT and BLOB columns alike; bytes are returned as stored.
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<int64_t> Query::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Query::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

Transaction::Transaction(sqlite3* db) : db_(db) {
  begin_status_ = SqliteExec(db_, "BEGIN IMMEDIATE");
  open_ = begin_status_.ok();
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Commit() {
  Status s = SqliteExec(db_, "COMMIT");
  // A failed COMMIT leaves the transaction open; the destructor rolls it back.
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace mailreqd
