// The WAL-gathering VFS on real files: what one connection commits is in the file for
// every other connection at once, and survives the process being killed right after the
// commit, with and without an fsync.
#include "daemon/sqlite_wal_vfs.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::RawDb;
using testing::TempDir;

// A connection through the VFS (or SQLite's default one), in WAL mode.
struct Connection {
  sqlite3* db = nullptr;
  Connection(const std::string& path, const char* vfs) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) ==
            SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    Exec("PRAGMA journal_mode = WAL");
  }
  ~Connection() { sqlite3_close_v2(db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  int Exec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
};

// Rows 1..n, each with a 600-byte value: a few per page, so that updating all of them
// touches many pages.
void Fill(Connection& c, int n) {
  REQUIRE(c.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)") == SQLITE_OK);
  REQUIRE(c.Exec("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " +
                 std::to_string(n) + ") INSERT INTO t SELECT i, printf('%.600c', 'a') FROM k") ==
          SQLITE_OK);
}

}  // namespace

TEST_CASE("WalGatheringVfs registers once under one name", "[sqlite][vfs]") {
  const char* name = WalGatheringVfs();
  REQUIRE(name != nullptr);
  CHECK(std::string(name) == WalGatheringVfs());
  CHECK(sqlite3_vfs_find(name) != nullptr);
  CHECK(sqlite3_vfs_find(nullptr) != sqlite3_vfs_find(name));  // not made the default
}

TEST_CASE("WalGatheringVfs: a commit is in the file for other connections at once",
          "[sqlite][vfs]") {
  TempDir dir;
  const std::string path = dir.File("seen.db");
  const char* sync = GENERATE("FULL", "NORMAL", "OFF");
  INFO("synchronous = " << sync);
  Connection writer(path, WalGatheringVfs());
  REQUIRE(writer.Exec(std::string("PRAGMA synchronous = ") + sync) == SQLITE_OK);
  Fill(writer, 200);
  Connection other(path, nullptr);  // SQLite's own VFS: reads only what is in the file
  for (int round = 1; round <= 20; ++round) {
    REQUIRE(writer.Exec("UPDATE t SET v = printf('%.600c', char(96 + " + std::to_string(round) +
                        ")) WHERE id % 7 = " + std::to_string(round % 7)) == SQLITE_OK);
    RawDb reader(path);
    CHECK(reader.Int("SELECT count(*) FROM t WHERE substr(v, 1, 1) = char(96 + " +
                     std::to_string(round) + ")") > 0);
    CHECK(reader.Text("PRAGMA integrity_check") == "ok");
  }
}

TEST_CASE(
    "WalGatheringVfs: a commit survives SIGKILL right after it, even with rewritten "
    "frames",
    "[sqlite][vfs]") {
  // With a cache of a few pages a large transaction spills pages into the WAL and then
  // changes them again: SQLite overwrites those frames and, at the commit, rewrites the
  // frame headers' checksums, the commit frame's header last and alone. If that header
  // stayed gathered in memory, recovery would stop at the bad checksum and lose the
  // commit.
  TempDir dir;
  const std::string path = dir.File("killed.db");
  const char* sync = GENERATE("FULL", "NORMAL");
  INFO("synchronous = " << sync);
  {
    Connection setup(path, WalGatheringVfs());
    Fill(setup, 400);
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Connection c(path, WalGatheringVfs());
    c.Exec(std::string("PRAGMA synchronous = ") + sync);
    c.Exec("PRAGMA cache_size = 5");
    c.Exec("PRAGMA wal_autocheckpoint = 0");  // the commit must be read back from the WAL
    int rc = c.Exec("BEGIN IMMEDIATE");
    for (int pass = 0; rc == SQLITE_OK && pass < 3; ++pass) {
      rc = c.Exec("UPDATE t SET v = printf('%.600c', char(98 + " + std::to_string(pass) + "))");
    }
    if (rc == SQLITE_OK) rc = c.Exec("COMMIT");
    if (rc == SQLITE_OK) raise(SIGKILL);  // no close, no checkpoint: as a crash
    _exit(1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));  // else the child's transaction failed
  RawDb after(path);
  CHECK(after.Int("SELECT count(*) FROM t WHERE substr(v, 1, 1) = 'd'") == 400);
  CHECK(after.Text("PRAGMA integrity_check") == "ok");
}

}  // namespace mailreqd
