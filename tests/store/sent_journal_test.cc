// The sending connection's journal of replies the server accepted: kept out of the
// outbox table until a read folds it in, counted by the rate limits meanwhile, left
// behind by a crash and folded by the next holder, held by one connection at a time.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "daemon/store_sent_journal.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::OpenStore;
using testing::RawDb;
using testing::SampleChange;
using testing::SampleCustomer;
using testing::TempDir;

// A database with alice's three pending replies (ids 1, 2, 3, due at 1000).
struct ThreeReplies {
  TempDir dir;
  std::string path = dir.File("mailreqd.db");
  std::string journal = path + "-sent";
  ThreeReplies() {
    auto store = OpenStore(path);
    REQUIRE(store->UpsertCustomers({SampleCustomer("alice")}).ok());
    for (int n = 1; n <= 3; ++n) REQUIRE(store->Commit(SampleChange(n, 1000)).ok());
  }
  std::string StatusOf(int id) {
    return RawDb(path).Text("SELECT status FROM outbox WHERE id = " + std::to_string(id));
  }
  uintmax_t JournalBytes() { return std::filesystem::file_size(journal); }
};

OutboxRow Sent(OutboxRow row, int64_t at) {
  row.status = "sent";
  row.attempts += 1;
  row.sent_at = at;
  return row;
}

std::vector<int64_t> Ids(const std::vector<OutboxRow>& rows) {
  std::vector<int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

}  // namespace

TEST_CASE("Sent marks are whole lines; a line cut short is left out", "[journal]") {
  const std::vector<SentMark> marks = {{1, 1, 1772235000}, {42, 3, 1772235999}};
  const std::string text = FormatSentMarks(marks);
  CHECK(text == "1 1 1772235000\n42 3 1772235999\n");
  CHECK(ParseSentMarks(text) == marks);
  CHECK(ParseSentMarks(text + "43 1 17722") == marks);  // a power cut mid-write
  CHECK(ParseSentMarks("1 1 1772235000\nx 1 2\n7 1 3\n").size() == 1);
  CHECK(ParseSentMarks("").empty());
}

TEST_CASE("An append the disk cuts short leaves the journal as it was", "[journal]") {
  TempDir dir;
  const std::string path = dir.File("mailreqd.db-sent");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // In a child: the file size limit stands in for a full disk, and dies with it.
    auto opened = SentJournal::TryOpen(path);
    if (!opened.ok() || !*opened) ::_exit(2);
    SentJournal& journal = **opened;
    const std::vector<SentMark> first = {{1, 1, 1772235000}};
    const std::vector<SentMark> more = {{2, 1, 1772235001}, {3, 1, 1772235002}};
    if (!journal.Append(first).ok()) ::_exit(3);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit normal{};
    ::getrlimit(RLIMIT_FSIZE, &normal);
    rlimit tight = normal;
    tight.rlim_cur = FormatSentMarks(first).size() + 10;  // the next write is cut mid-line
    ::setrlimit(RLIMIT_FSIZE, &tight);
    if (journal.Append(more).ok()) ::_exit(4);
    ::setrlimit(RLIMIT_FSIZE, &normal);
    if (!journal.Append(more).ok()) ::_exit(5);
    auto all = journal.ReadAll();
    const std::vector<SentMark> expected = {first[0], more[0], more[1]};
    ::_exit(all.ok() && *all == expected ? 0 : 6);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("Journaled marks stay out of the table until nothing is left to send",
          "[sqlite][journal]") {
  ThreeReplies db;
  auto store = OpenStore(db.path);
  store->JournalSentMarks();
  auto due = store->DueReplies(1000, 10);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 3);

  REQUIRE(store->MarkReplies({Sent(due->at(0), 5000), Sent(due->at(1), 5001)}).ok());
  CHECK(db.StatusOf(1) == "pending");  // one write(2) to the journal, no transaction
  CHECK(db.JournalBytes() > 0);
  CHECK(*store->SentSince("", 4000) == 2);
  CHECK(*store->SentSince("ALICE@example.com", 5001) == 1);
  CHECK(*store->SentSince("bob@example.com", 0) == 0);

  // Still pending in the table, but not due: the first reply due is the third, even
  // when only one is asked for.
  auto left = store->DueReplies(1000, 1);
  REQUIRE(left.ok());
  CHECK(Ids(*left) == std::vector<int64_t>{3});
  CHECK(db.StatusOf(1) == "pending");

  REQUIRE(store->MarkReplies({Sent(left->at(0), 5002)}).ok());
  CHECK(store->DueReplies(1000, 10)->empty());
  CHECK(db.StatusOf(1) == "sent");
  CHECK(db.StatusOf(3) == "sent");
  CHECK(RawDb(db.path).Int("SELECT sent_at FROM outbox WHERE id = 2") == 5001);
  CHECK(RawDb(db.path).Int("SELECT attempts FROM outbox WHERE id = 2") == 1);
  CHECK(db.JournalBytes() == 0);
  CHECK(*store->SentSince("", 4000) == 3);  // now counted from the table, not twice
}

TEST_CASE("A retry or failure in the group goes to the table, after the journaled marks",
          "[sqlite][journal]") {
  ThreeReplies db;
  auto store = OpenStore(db.path);
  store->JournalSentMarks();
  auto due = *store->DueReplies(1000, 10);
  REQUIRE(store->MarkReplies({Sent(due[0], 5000)}).ok());
  OutboxRow retry = due[1];
  retry.attempts = 1;
  retry.next_attempt_at = 9000;
  retry.last_error = "421 try later";
  REQUIRE(store->MarkReplies({Sent(due[2], 5000), retry}).ok());
  CHECK(db.StatusOf(1) == "sent");
  CHECK(db.StatusOf(3) == "sent");
  CHECK(RawDb(db.path).Int("SELECT next_attempt_at FROM outbox WHERE id = 2") == 9000);
  CHECK(db.JournalBytes() == 0);
}

TEST_CASE("What a killed holder journaled is folded before the next one reads the outbox",
          "[sqlite][journal][crash]") {
  ThreeReplies db;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child marks replies 1 and 2 sent and dies without closing anything.
    auto store = SqliteStore::Open(db.path);
    if (!store.ok()) ::_exit(2);
    (*store)->JournalSentMarks();
    auto due = (*store)->DueReplies(1000, 10);
    if (!due.ok() || due->size() != 3) ::_exit(3);
    if (!(*store)->MarkReplies({Sent(due->at(0), 5000), Sent(due->at(1), 5000)}).ok()) ::_exit(4);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(db.StatusOf(1) == "pending");
  // And a power cut cut the journal's last write short: that reply goes out again.
  std::ofstream(db.journal, std::ios::app) << "3 1 50";

  auto store = OpenStore(db.path);
  store->JournalSentMarks();
  auto due = store->DueReplies(1000, 10);
  REQUIRE(due.ok());
  CHECK(Ids(*due) == std::vector<int64_t>{3});
  CHECK(db.StatusOf(1) == "sent");
  CHECK(db.StatusOf(2) == "sent");
  CHECK(db.JournalBytes() == 0);
}

TEST_CASE("A second connection asking for the journal writes its marks to the table",
          "[sqlite][journal]") {
  ThreeReplies db;
  auto holder = OpenStore(db.path);
  holder->JournalSentMarks();
  REQUIRE(holder->DueReplies(1000, 10).ok());  // takes the journal
  auto other = OpenStore(db.path);
  other->JournalSentMarks();
  auto due = *other->DueReplies(1000, 10);
  REQUIRE(other->MarkReplies({Sent(due[1], 5000)}).ok());
  CHECK(db.StatusOf(2) == "sent");
  CHECK(db.JournalBytes() == 0);

  holder.reset();  // gives the journal up
  REQUIRE(other->MarkReplies({Sent(due[0], 5000)}).ok());
  CHECK(db.StatusOf(1) == "pending");
  CHECK(db.JournalBytes() > 0);
  other.reset();  // folds on the way out
  CHECK(db.StatusOf(1) == "sent");
}

// The drain's connection holds the write lock for most of each chunk. The sender must
// keep sending meanwhile: its folds are tried, not waited for, until the journal is long.
TEST_CASE("The sender does not wait for a fold while another connection writes",
          "[sqlite][journal]") {
  ThreeReplies db;
  auto sender = SqliteStore::Open(db.path, /*busy_timeout_ms=*/50);  // a wait would fail
  REQUIRE(sender.ok());
  auto& store = **sender;
  store.JournalSentMarks();
  auto due = *store.DueReplies(1000, 10);
  REQUIRE(due.size() == 3);
  auto drain = OpenStore(db.path);
  REQUIRE(drain->BeginGroup().ok());

  // 900 marks (the same three, again and again): past the first folds tried.
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    REQUIRE(store.MarkReplies({Sent(due[0], 5000), Sent(due[1], 5000), Sent(due[2], 5000)}).ok());
  }
  auto none = store.DueReplies(1000, 10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(db.StatusOf(1) == "pending");  // not folded: the lock was taken
  CHECK(db.JournalBytes() > 0);
  CHECK(*store.SentSince("", 4000) == 900);

  REQUIRE(drain->EndGroup(true).ok());
  REQUIRE(store.DueReplies(1000, 10).ok());  // nothing due, the lock free: folded
  CHECK(db.StatusOf(1) == "sent");
  CHECK(db.StatusOf(3) == "sent");
  CHECK(db.JournalBytes() == 0);
}

}  // namespace mailreqd
