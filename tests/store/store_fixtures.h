// Helpers shared by the store tests: a temporary directory, sample rows, and a raw
// SQLite connection for looking behind SqliteStore's back.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "daemon/sqlite_store.h"

namespace mailreqd::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mailreqd-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<SqliteStore> OpenStore(const std::string& path) {
  auto store = SqliteStore::Open(path);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(*store);
}

// A plain connection to inspect the file: what another process would see.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* get() { return db_; }

  // The first column of the first row as text ("" when there is no row).
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  int64_t Int(const std::string& sql) { return std::stoll("0" + Text(sql)); }
  void Exec(const std::string& sql) {
    INFO(sql);
    REQUIRE(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

// What EXPLAIN QUERY PLAN says of `sql`, one step per line.
inline std::string PlanOf(RawDb& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.get(), ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt,
                             nullptr) == SQLITE_OK);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "\n";
  }
  sqlite3_finalize(stmt);
  return plan;
}

inline Customer SampleCustomer(const std::string& username) {
  return Customer{username,
                  username + "@example.com",
                  "Chan Tai Man",
                  "1 Queen's Road, Central",
                  "+852 2123 4567",
                  "",
                  true};
}

inline Subscription SampleSubscription(const std::string& username, const std::string& service) {
  Subscription s;
  s.username = username;
  s.service = service;
  s.period = BillingPeriod::kMonthly;
  s.anchor = Date{2026, 1, 31};
  return s;
}

// A request with one reply; `n` makes the keys and Message-IDs unique.
inline Change SampleChange(int n, int64_t arrived = 1772235000) {
  Change c;
  c.request.key = "mid:<req" + std::to_string(n) + "@example.com>";
  c.request.message_id = "<req" + std::to_string(n) + "@example.com>";
  c.request.arrived = arrived;
  c.request.sender = "alice@example.com";
  c.request.kind = "unsubscribe";
  c.request.username = "alice";
  c.request.outcome = "cancelled";
  c.request.detail = "ends 2026-03-30";
  c.request.folder = "processed";
  OutboxRow reply;
  reply.message_id = "<reply" + std::to_string(n) + "@mailreqd.example>";
  reply.recipient = "alice@example.com";
  reply.raw = "Subject: done\r\n\r\nYour subscription ends on 30 March 2026.\r\n";
  reply.next_attempt_at = arrived;
  c.replies.push_back(reply);
  return c;
}

}  // namespace mailreqd::testing
