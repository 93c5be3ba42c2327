// Small RAII layer over the SQLite C API, shared by the SQLite adapter files: owning
// pointers for connections and statements, the mapping from result codes to Status,
// a borrowed prepared statement (Query) and a transaction guard. Only sqlite_*.cc
// include this, so <sqlite3.h> stays out of everything else.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/status.h"

namespace mailreqd {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// Busy, locked, disk full and I/O errors are Transient (another writer, or a disk that
// may recover); corruption and unopenable or read-only files are Fatal; everything else
// (constraints, type mismatches, misuse) is Permanent. `what` says which operation.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// Runs SQL without parameters (pragmas, DDL, BEGIN/COMMIT).
Status SqliteExec(sqlite3* db, const char* sql);

// One use of a prepared statement it does not own. Binds parameters left to right,
// steps, reads columns; the first error is kept in status() and later calls do nothing.
// Resets the statement on destruction so that the owner's cache can hand it out again.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, Status prepare_status);
  Query(Query&& other) noexcept;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& BindInt(int64_t v);
  Query& BindText(std::string_view v);
  Query& BindBlob(std::string_view v);
  Query& BindNull();
  Query& BindOptText(const std::optional<std::string>& v);
  Query& BindOptInt(const std::optional<int64_t>& v);

  bool Step();   // true: a row is ready; false: done, or failed (see status())
  Status Run();  // steps to the end, ignoring rows; returns status()
  int Changes() const { return sqlite3_changes(db_); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<int64_t> OptInt(int col) const;
  std::optional<std::string> OptText(int col) const;

  const Status& status() const { return status_; }

 private:
  Query& Check(int rc);
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status status_;
  int next_param_ = 1;
};

// BEGIN IMMEDIATE on construction (so the write lock, and busy_timeout, come first, and
// a read never has to be upgraded); ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  const Status& status() const { return begin_status_; }  // check before using
  Status Commit();

 private:
  sqlite3* db_;
  Status begin_status_;
  bool open_ = false;
};

}  // namespace mailreqd
