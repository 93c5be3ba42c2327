// SqliteStore on a real file: schema, transactions, outbox, tokens, mailbox state.
#include "daemon/sqlite_store.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <filesystem>

#include "daemon/sqlite_schema.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::OpenStore;
using testing::PlanOf;
using testing::RawDb;
using testing::SampleChange;
using testing::SampleCustomer;
using testing::SampleSubscription;
using testing::TempDir;

// A store with customer alice and her monthly "news" subscription (id 1).
struct Seeded {
  TempDir dir;
  std::string path = dir.File("mailreqd.db");
  std::unique_ptr<SqliteStore> store = OpenStore(path);
  Seeded() {
    REQUIRE(store->UpsertCustomers({SampleCustomer("alice")}).ok());
    REQUIRE(store->UpsertSubscriptions({SampleSubscription("alice", "news")}).ok());
  }
  Subscription News() {
    auto subs = store->Subscriptions("alice");
    REQUIRE(subs.ok());
    REQUIRE(subs->size() == 1);
    return subs->front();
  }
  int64_t Count(const std::string& table) {
    return RawDb(path).Int("SELECT count(*) FROM " + table);
  }
};

}  // namespace

TEST_CASE("SqliteStore Open creates the schema in WAL mode", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("new.db");
  { auto store = OpenStore(path); }
  RawDb raw(path);
  CHECK(raw.Text("PRAGMA journal_mode") == "wal");
  CHECK(raw.Int("PRAGMA user_version") == LatestSchemaVersion());
  for (const char* table : {"customers", "subscriptions", "requests", "outbox", "audit", "tokens",
                            "suppression", "mailbox_state"}) {
    INFO(table);
    CHECK(raw.Int(std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") + table + "'") ==
          1);
  }
}

// The page cache has a slab of its own (sqlite_store.cc), set up before the first
// connection; nothing in this program may use SQLite before SqliteStore::Open does.
TEST_CASE("SqliteStore pages come from the page cache slab", "[sqlite]") {
  TempDir dir;
  auto store = OpenStore(dir.File("slab.db"));
  REQUIRE(store->UpsertCustomers({SampleCustomer("alice")}).ok());
  REQUIRE(store->Commit(SampleChange(1, 1000)).ok());
  sqlite3_int64 used = 0, most = 0;
  REQUIRE(sqlite3_status64(SQLITE_STATUS_PAGECACHE_USED, &used, &most, 0) == SQLITE_OK);
  CHECK(used > 0);
  CHECK(most >= used);
}

TEST_CASE("SqliteStore finds an account's requests through an index", "[sqlite]") {
  // The WHERE and ORDER BY of RequestsOf: a data-access request must not read the whole
  // (ever growing) requests table, nor sort what it found.
  TempDir dir;
  const std::string path = dir.File("plan.db");
  { auto store = OpenStore(path); }
  RawDb raw(path);
  const std::string plan =
      PlanOf(raw, "SELECT * FROM requests WHERE username = ? ORDER BY arrived, id");
  INFO(plan);
  CHECK(plan.find("SEARCH requests USING INDEX requests_username (username=?)") !=
        std::string::npos);
  CHECK(plan.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("SqliteStore Open again leaves an up-to-date schema alone", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("again.db");
  { OpenStore(path)->UpsertCustomers({SampleCustomer("alice")}); }
  auto store = OpenStore(path);
  auto alice = store->FindCustomer("alice");
  REQUIRE(alice.ok());
  CHECK(alice->has_value());
}

TEST_CASE("SqliteStore Open refuses a schema newer than the binary", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("newer.db");
  { OpenStore(path); }
  RawDb(path).Exec("PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1));
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().kind() == ErrorKind::kFatal);
}

TEST_CASE("SqliteStore Open refuses a file that is not a database", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("junk.db");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("this is not an SQLite database, just some text long enough to be a header", f);
  std::fclose(f);
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().kind() == ErrorKind::kFatal);
}

TEST_CASE("SqliteStore Commit writes the request and everything it changes", "[sqlite]") {
  Seeded db;
  Change c = SampleChange(1);
  Subscription news = db.News();
  news.status = "cancelling";
  news.ends_on = Date{2026, 3, 30};
  c.subscription_update = news;
  Customer alice = SampleCustomer("alice");
  alice.marketing_opt_in = false;
  c.customer_update = alice;
  c.audit.push_back({"alice@example.com", "subscription:1", "ends_on", "", "2026-03-30"});
  c.request.due_on = Date{2026, 4, 8};
  REQUIRE(db.store->Commit(c).ok());

  auto found = db.store->FindRequest(c.request.key);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  const RequestRecord& r = **found;
  CHECK(r.id > 0);
  CHECK(r.outcome == "cancelled");
  CHECK(r.arrived == 1772235000);
  CHECK(r.due_on == Date{2026, 4, 8});
  CHECK(db.News().status == "cancelling");
  CHECK(db.News().ends_on == Date{2026, 3, 30});
  CHECK_FALSE((*db.store->FindCustomer("alice"))->marketing_opt_in);
  auto audit = db.store->AuditOf(r.id);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().new_value == "2026-03-30");
  auto due = db.store->DueReplies(1772235000, 10);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 1);
  CHECK(due->front().request_id == r.id);
  CHECK(due->front().raw == c.replies[0].raw);
}

TEST_CASE("SqliteStore Commit of a known request key changes nothing", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->Commit(SampleChange(1)).ok());
  Change again = SampleChange(1);
  again.replies[0].message_id = "<other@mailreqd.example>";
  Subscription news = db.News();
  news.status = "cancelling";
  again.subscription_update = news;
  Status s = db.store->Commit(again);
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(s.message() == "duplicate request");
  CHECK(db.Count("requests") == 1);
  CHECK(db.Count("outbox") == 1);
  CHECK(db.News().status == "active");
}

TEST_CASE("SqliteStore Commit rolls back when a later step fails", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->Commit(SampleChange(1)).ok());
  Change c = SampleChange(2);
  Subscription news = db.News();
  news.status = "cancelling";
  news.ends_on = Date{2026, 3, 30};
  c.subscription_update = news;
  c.audit.push_back({"alice@example.com", "subscription:1", "status", "active", "cancelling"});

  SECTION("a reply whose Message-ID is already in the outbox") {
    c.replies.push_back(SampleChange(1).replies[0]);
  }
  SECTION("a subscription that does not exist") {
    Subscription ghost = news;
    ghost.id = 999;
    c.subscription_update = ghost;
  }
  SECTION("a token that was never issued") { c.use_token_hash = "00ff"; }

  Status s = db.store->Commit(c);
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(db.Count("requests") == 1);
  CHECK(db.Count("outbox") == 1);
  CHECK(db.Count("audit") == 0);
  CHECK(db.News().status == "active");
  CHECK_FALSE(db.News().ends_on.has_value());
}

TEST_CASE("SqliteStore Commit is Transient while another writer holds the lock", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("busy.db");
  auto store = SqliteStore::Open(path, /*busy_timeout_ms=*/50);
  REQUIRE(store.ok());
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");
  Status s = (*store)->Commit(SampleChange(1));
  CHECK(s.kind() == ErrorKind::kTransient);
  other.Exec("ROLLBACK");
  CHECK((*store)->Commit(SampleChange(1)).ok());
}

TEST_CASE("SqliteStore CommitBatch writes all Changes or none", "[sqlite]") {
  Seeded db;
  std::vector<Change> batch = {SampleChange(1), SampleChange(2), SampleChange(3)};
  REQUIRE(db.store->CommitBatch(batch).ok());
  CHECK(db.Count("requests") == 3);

  std::vector<Change> bad = {SampleChange(4), SampleChange(2), SampleChange(5)};
  Status s = db.store->CommitBatch(bad);
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(s.message() == "change 1: duplicate request");
  CHECK(db.Count("requests") == 3);
  CHECK(db.Count("outbox") == 3);
}

TEST_CASE("SqliteStore CommitEach skips only the Changes that fail", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->Commit(SampleChange(2)).ok());
  std::vector<Change> batch = {SampleChange(1), SampleChange(2), SampleChange(3)};
  auto results = db.store->CommitEach(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].ok());
  CHECK((*results)[1].message() == "duplicate request");
  CHECK((*results)[2].ok());
  CHECK(db.Count("requests") == 3);
  CHECK(db.Count("outbox") == 3);
}

TEST_CASE("SqliteStore CommitEach in a group keeps the earlier pass when a Change fails",
          "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->BeginGroup().ok());
  REQUIRE(db.store->CommitEach({SampleChange(1)}).ok());
  auto results = db.store->CommitEach({SampleChange(2), SampleChange(1), SampleChange(3)});
  REQUIRE(results.ok());
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].ok());
  CHECK((*results)[1].message() == "duplicate request");
  CHECK((*results)[2].ok());
  REQUIRE(db.store->EndGroup(true).ok());
  CHECK(db.Count("requests") == 3);
  CHECK(db.Count("outbox") == 3);  // the refused try left none of its own
  CHECK(db.Count("outbox_raw") == 3);
}

TEST_CASE("SqliteStore makes a group of CommitEach calls visible to others only at its end",
          "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->BeginGroup().ok());
  REQUIRE(db.store->CommitEach({SampleChange(1)}).ok());
  {
    // A later pass of the group reads what the earlier one wrote...
    ReadSnapshot snapshot(*db.store);
    auto found = db.store->FindRequest(SampleChange(1).request.key);
    REQUIRE(found.ok());
    CHECK(found->has_value());
  }
  REQUIRE(db.store->CommitEach({SampleChange(2)}).ok());
  CHECK(db.Count("requests") == 0);  // ...and another connection nothing yet
  REQUIRE(db.store->EndGroup(true).ok());
  CHECK(db.Count("requests") == 2);
  CHECK(db.Count("outbox") == 2);
}

TEST_CASE("SqliteStore undoes a whole group that ends without commit", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->BeginGroup().ok());
  REQUIRE(db.store->CommitEach({SampleChange(1)}).ok());
  REQUIRE(db.store->CommitEach({SampleChange(2)}).ok());
  REQUIRE(db.store->EndGroup(false).ok());
  CHECK(db.Count("requests") == 0);
  CHECK(db.Count("outbox_raw") == 0);
  REQUIRE(db.store->Commit(SampleChange(1)).ok());  // the connection writes on as before
  CHECK(db.Count("requests") == 1);
}

TEST_CASE("SqliteStore leaves a due checkpoint to another connection", "[sqlite]") {
  Seeded db;
  int wal_full = 0;
  db.store->LeaveCheckpoints([&] { ++wal_full; }, 200);
  const auto size_before = std::filesystem::file_size(db.path);
  for (int n = 1; wal_full == 0 && n < 400; ++n) REQUIRE(db.store->Commit(SampleChange(n)).ok());
  REQUIRE(wal_full == 1);
  CHECK(std::filesystem::file_size(db.path) == size_before);  // nothing copied here
  auto other = OpenStore(db.path);
  REQUIRE(other->Checkpoint().ok());
  CHECK(std::filesystem::file_size(db.path) > size_before);  // copied there
}

TEST_CASE("SqliteStore checkpoints on its own again once the hook is taken away", "[sqlite]") {
  Seeded db;
  int wal_full = 0;
  db.store->LeaveCheckpoints([&] { ++wal_full; }, 100);
  db.store->LeaveCheckpoints(nullptr, 100);  // as the Engine does before its loop goes
  const auto size_before = std::filesystem::file_size(db.path);
  for (int n = 1; n < 400 && std::filesystem::file_size(db.path) == size_before; ++n) {
    REQUIRE(db.store->Commit(SampleChange(n)).ok());
  }
  CHECK(wal_full == 0);  // nothing calls the old hook
  CHECK(std::filesystem::file_size(db.path) > size_before);  // SQLite checkpointed here
}

TEST_CASE("SqliteStore checkpoints itself when nobody else does for long", "[sqlite]") {
  Seeded db;
  int wal_full = 0;
  db.store->LeaveCheckpoints([&] { ++wal_full; }, 100);  // and nobody answers
  const auto size_before = std::filesystem::file_size(db.path);
  for (int n = 1; n < 400 && std::filesystem::file_size(db.path) == size_before; ++n) {
    REQUIRE(db.store->Commit(SampleChange(n)).ok());
  }
  CHECK(wal_full > 0);
  CHECK(std::filesystem::file_size(db.path) > size_before);
}

TEST_CASE("SqliteStore DueReplies returns pending replies due by now, oldest first",
          "[sqlite][outbox]") {
  Seeded db;
  REQUIRE(db.store->Commit(SampleChange(1, 1000)).ok());
  REQUIRE(db.store->Commit(SampleChange(2, 3000)).ok());
  REQUIRE(db.store->Commit(SampleChange(3, 2000)).ok());
  auto due = db.store->DueReplies(2500, 10);
  REQUIRE(due.ok());
  REQUIRE(due->size() == 2);
  CHECK(due->at(0).message_id == "<reply1@mailreqd.example>");
  CHECK(due->at(1).message_id == "<reply3@mailreqd.example>");
  CHECK(db.store->DueReplies(5000, 1)->size() == 1);
  CHECK(db.store->DueReplies(999, 10)->empty());
}

TEST_CASE("SqliteStore MarkReplies reschedules, sends and fails replies", "[sqlite][outbox]") {
  Seeded db;
  REQUIRE(db.store->Commit(SampleChange(1, 1000)).ok());
  OutboxRow row = db.store->DueReplies(1000, 10)->front();

  row.attempts = 1;
  row.next_attempt_at = 1600;
  row.last_error = "421 try later";
  REQUIRE(db.store->MarkReplies({row}).ok());
  CHECK(db.store->DueReplies(1599, 10)->empty());
  OutboxRow again = db.store->DueReplies(1600, 10)->front();
  CHECK(again.attempts == 1);
  CHECK(again.last_error == "421 try later");
  CHECK_FALSE(again.sent_at.has_value());

  again.status = "sent";
  again.attempts = 2;
  REQUIRE(db.store->MarkReplies({again}).ok());
  CHECK(db.store->DueReplies(99999, 10)->empty());
  CHECK(RawDb(db.path).Int("SELECT sent_at FROM outbox") > 1700000000);

  // A vanished row is reported, after the rows that exist are written.
  OutboxRow gone = again;
  gone.id = 4242;
  again.last_error = "written despite the missing row";
  CHECK(db.store->MarkReplies({gone, again}).kind() == ErrorKind::kPermanent);
  CHECK(RawDb(db.path).Text("SELECT last_error FROM outbox") == "written despite the missing row");
}

TEST_CASE("SqliteStore tokens confirm once and only before they expire", "[sqlite][tokens]") {
  Seeded db;
  Change issue = SampleChange(1, 1000);
  issue.new_tokens.push_back({"abc123", "data_correction", "alice", {}, "{}", 5000, {}});
  REQUIRE(db.store->Commit(issue).ok());
  auto token = db.store->FindToken("abc123");
  REQUIRE(token.ok());
  REQUIRE(token->has_value());
  CHECK((*token)->request_id == (*db.store->FindRequest(issue.request.key))->id);
  CHECK_FALSE((*token)->used_at.has_value());
  CHECK_FALSE(db.store->FindToken("nope")->has_value());

  SECTION("used once") {
    Change confirm = SampleChange(2, 2000);
    confirm.use_token_hash = "abc123";
    REQUIRE(db.store->Commit(confirm).ok());
    CHECK((*db.store->FindToken("abc123"))->used_at == 2000);
    Change twice = SampleChange(3, 2100);
    twice.use_token_hash = "abc123";
    CHECK(db.store->Commit(twice).kind() == ErrorKind::kPermanent);
    CHECK_FALSE(db.store->FindRequest(twice.request.key)->has_value());
  }
  SECTION("expired") {
    Change late = SampleChange(2, 5000);
    late.use_token_hash = "abc123";
    CHECK(db.store->Commit(late).kind() == ErrorKind::kPermanent);
  }
  SECTION("put directly, unique by hash") {
    TokenRow t{"def456", "unsubscribe", "alice", {}, "", 9000, {}};
    CHECK(db.store->PutToken(t).ok());
    CHECK(db.store->PutToken(t).kind() == ErrorKind::kPermanent);
  }
}

TEST_CASE("SqliteStore suppression list ignores case and repeats", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->AddSuppression("Bob@Example.COM").ok());
  REQUIRE(db.store->AddSuppression("bob@example.com").ok());
  CHECK(*db.store->IsSuppressed("BOB@example.com"));
  CHECK_FALSE(*db.store->IsSuppressed("carol@example.com"));
  Change c = SampleChange(1);
  c.suppress_email = "carol@example.com";
  REQUIRE(db.store->Commit(c).ok());
  CHECK(*db.store->IsSuppressed("carol@example.com"));
  CHECK(db.Count("suppression") == 2);
}

TEST_CASE("SqliteStore keeps IMAP progress per mailbox", "[sqlite]") {
  Seeded db;
  CHECK_FALSE(db.store->GetMailboxState("INBOX")->has_value());
  REQUIRE(db.store->SetMailboxState({"INBOX", 1795652332, 41}).ok());
  REQUIRE(db.store->SetMailboxState({"INBOX", 1795652332, 42}).ok());
  auto state = db.store->GetMailboxState("INBOX");
  REQUIRE(state.ok());
  REQUIRE(state->has_value());
  CHECK((*state)->uidvalidity == 1795652332);
  CHECK((*state)->last_uid == 42);
}

TEST_CASE("SqliteStore finds customers by email regardless of case", "[sqlite]") {
  Seeded db;
  REQUIRE(db.store->UpsertCustomers({SampleCustomer("bob")}).ok());
  auto found = db.store->CustomersByEmail("ALICE@example.com");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->front().username == "alice");
  CHECK(found->front().postal_address == "1 Queen's Road, Central");
  CHECK(db.store->CustomersByEmail("nobody@example.com")->empty());
}

TEST_CASE("SqliteStore lists requests by time and kind, and the ones due", "[sqlite][operator]") {
  Seeded db;
  Change access = SampleChange(1, 1000);
  access.request.kind = "data_access";
  access.request.folder = "review";
  access.request.due_on = Date{2026, 4, 8};
  Change other = SampleChange(2, 2000);
  other.request.folder = "review";
  other.request.due_on = Date{2026, 3, 1};
  Change undated = SampleChange(3, 3000);
  undated.request.folder = "review";
  REQUIRE(db.store->CommitBatch({access, other, undated, SampleChange(4, 4000)}).ok());

  CHECK(db.store->Requests(std::nullopt, std::nullopt)->size() == 4);
  auto since = db.store->Requests(2000, std::nullopt);
  REQUIRE(since->size() == 3);
  CHECK(since->front().arrived == 2000);
  auto kind = db.store->Requests(std::nullopt, "data_access");
  REQUIRE(kind->size() == 1);
  CHECK(kind->front().key == access.request.key);

  auto due = db.store->DueRequests();
  REQUIRE(due.ok());
  REQUIRE(due->size() == 3);
  CHECK(due->at(0).key == other.request.key);
  CHECK(due->at(1).key == access.request.key);
  CHECK(due->at(2).key == undated.request.key);
}

TEST_CASE("SqliteStore marks a review request handled, once, with an audit entry",
          "[sqlite][operator]") {
  Seeded db;
  Change review = SampleChange(1, 1000);
  review.request.folder = "review";
  review.request.due_on = Date{2026, 4, 8};
  Change done = SampleChange(2, 2000);  // processed by the daemon
  REQUIRE(db.store->CommitBatch({review, done}).ok());
  auto due = db.store->DueRequests();
  REQUIRE(due->size() == 1);
  const int64_t id = due->front().id;

  REQUIRE(db.store->MarkHandled(id, "operator ann").ok());
  CHECK(db.store->DueRequests()->empty());
  auto audit = db.store->AuditOf(id);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().actor == "operator ann");
  CHECK(audit->front().entity == "request:" + std::to_string(id));
  CHECK(audit->front().field == "folder");
  CHECK(audit->front().old_value == "review");
  CHECK(audit->front().new_value == "handled");

  Status again = db.store->MarkHandled(id, "operator ann");
  CHECK(again.kind() == ErrorKind::kPermanent);
  CHECK_THAT(again.message(), Catch::Contains("not waiting for a human"));
  const int64_t processed = db.store->FindRequest(done.request.key)->value().id;
  CHECK(db.store->MarkHandled(processed, "operator ann").kind() == ErrorKind::kPermanent);
  Status missing = db.store->MarkHandled(id + 100, "operator ann");
  CHECK(missing.kind() == ErrorKind::kPermanent);
  CHECK_THAT(missing.message(), Catch::Contains("no request"));
  CHECK(db.Count("audit") == 1);
}

}  // namespace mailreqd
