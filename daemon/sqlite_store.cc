// SqliteStore: opening, the statement cache, and writing Changes. Reads are in
// sqlite_store_reads.cc, the outbox's marks in sqlite_store_marks.cc, backup and import
// in sqlite_store_admin.cc.
#include "daemon/sqlite_store.h"

#include <cstdlib>
#include <mutex>
#include <utility>

#include "daemon/sqlite_schema.h"
#include "daemon/sqlite_statement.h"
#include "daemon/sqlite_wal_vfs.h"

namespace mailreqd {
namespace {

constexpr const char* kFindRequestKey = "SELECT 1 FROM requests WHERE key = ?";
constexpr const char* kInsertRequest =
    "INSERT INTO requests (key, message_id, arrived, sender, kind, username, outcome, detail,"
    " due_on, folder, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unixepoch())";
constexpr const char* kUseToken =
    "UPDATE tokens SET used_at = ?1 WHERE hash = ?2 AND used_at IS NULL AND expires_at > ?1";
constexpr const char* kUpdateSubscription =
    "UPDATE subscriptions SET status = ?, ends_on = ? WHERE id = ?";
constexpr const char* kUpdateCustomer =
    "UPDATE customers SET email = ?, name = ?, postal_address = ?, telephone = ?, fax = ?,"
    " marketing_opt_in = ? WHERE username = ?";
constexpr const char* kInsertAudit =
    "INSERT INTO audit (at, request_id, actor, entity, field, old_value, new_value)"
    " VALUES (unixepoch(), ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertReply =
    "INSERT INTO outbox (request_id, message_id, recipient, status, attempts,"
    " next_attempt_at, last_error, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertReplyRaw = "INSERT INTO outbox_raw (id, raw) VALUES (?, ?)";
constexpr const char* kInsertToken =
    "INSERT INTO tokens (hash, purpose, username, request_id, payload, expires_at, used_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)";
// The savepoints of a group commit (all its Changes, or each one), prepared once like the
// rest: parsed anew by sqlite3_exec, they were 2% of a drain's CPU.
constexpr const char* kSavepoint = "SAVEPOINT change";
constexpr const char* kRollbackTo = "ROLLBACK TO change";
constexpr const char* kRelease = "RELEASE change";
constexpr const char* kSavepointAll = "SAVEPOINT changes";
constexpr const char* kRollbackToAll = "ROLLBACK TO changes";
constexpr const char* kReleaseAll = "RELEASE changes";
constexpr const char* kSuppress =
    "INSERT INTO suppression (email, added_at) VALUES (?, unixepoch())"
    " ON CONFLICT (email) DO NOTHING";

// An error that undoes the caller's whole transaction while Changes are applied: a
// transient one (tried again later) or a fatal one. A permanent one refuses one Change.
bool EndsGroup(const Status& s) {
  return s.kind() == ErrorKind::kTransient || s.kind() == ErrorKind::kFatal;
}

// Reads the one-row answer of a pragma that reports a setting, e.g. journal_mode.
Result<std::string> PragmaText(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  SqliteStmt stmt(raw);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, sql);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, sql);
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return std::string(text ? reinterpret_cast<const char*>(text) : "");
}

Status Prefixed(size_t index, size_t count, const Status& s) {
  if (count == 1) return s;
  const std::string m = "change " + std::to_string(index) + ": " + s.message();
  switch (s.kind()) {
    case ErrorKind::kTransient:
      return Status::Transient(m);
    case ErrorKind::kFatal:
      return Status::Fatal(m);
    default:
      return Status::Permanent(m);
  }
}

// Pages the page cache slab holds: the two connections' caches (about 470 pages each)
// and the pages a chunk's transaction dirties. Untouched slots take no memory.
constexpr int kCacheSlabPages = 2000;
constexpr int kPageBytes = 4096;  // SQLite's default page size, which we keep

// Each connection is used by one thread at a time (see the header), so SQLite's own
// mutex around every call on it, and the global one around every allocation it counts
// for its statistics, only cost: pthread_mutex_lock/unlock were 4% of a drain's CPU.
//
// Page cache pages come from one slab of their own rather than malloc. Each chunk
// dirties and frees about a thousand 4 KB pages between the daemon's own allocations,
// and the holes they left in malloc's heap grew with the drain: the peak RSS of a
// 50,000-mail drain was 3.3 MB (11%) above a 10,000-mail one's, 2.1 MB (6%) with the
// slab. Pages beyond the slab still come from malloc.
//
// Both settings can only be made before SQLite is first used (else they are refused,
// and SQLite goes on as it was).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) return;
    const int slot = kPageBytes + header;
    static void* slab = std::malloc(static_cast<size_t>(slot) * kCacheSlabPages);  // for good
    if (slab) sqlite3_config(SQLITE_CONFIG_PAGECACHE, slab, slot, kCacheSlabPages);
  });
}

}  // namespace

void SqliteStore::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStore::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStore::SqliteStore(sqlite3* db) : db_(db) {}
SqliteStore::~SqliteStore() {
  // Best effort: what is not folded stays in the journal for the next holder.
  if (journal_) FoldSentMarks();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       int busy_timeout_ms) {
  ConfigureSqliteOnce();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 WalGatheringVfs());
  std::unique_ptr<SqliteStore> store(new SqliteStore(raw));  // owns the handle even on error
  if (rc != SQLITE_OK) {
    return Status::Fatal("open database " + path + ": " +
                         (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  Status s = store->Configure(busy_timeout_ms);
  if (!s.ok()) return s;
  s = MigrateSchema(store->db_.get());
  if (!s.ok()) return s;
  return store;
}

Status SqliteStore::Configure(int busy_timeout_ms) {
  sqlite3* db = db_.get();
  sqlite3_extended_result_codes(db, 1);
  int rc = sqlite3_busy_timeout(db, busy_timeout_ms);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, "busy_timeout");
  busy_timeout_ms_ = busy_timeout_ms;
  Status s = SqliteExec(db, "PRAGMA foreign_keys = ON");
  if (!s.ok()) return s;
  // Group commit gives each request a savepoint, and SQLite backs every savepoint with a
  // statement journal, by default a temporary file: 93,000 pwrite calls into /var/tmp for
  // a 3,000-mail drain. Each journal holds the pages one request touches: memory it is.
  s = SqliteExec(db, "PRAGMA temp_store = MEMORY");
  if (!s.ok()) return s;
  // WAL: the operator's `requests` and `show` read while the daemon writes, and one
  // fsync per commit instead of two.
  Result<std::string> mode = PragmaText(db, "PRAGMA journal_mode = WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal" && *mode != "memory") {
    return Status::Fatal("database refuses WAL mode (journal_mode " + *mode + ")");
  }
  // FULL: in WAL mode NORMAL may lose the last commits on power loss, and a lost
  // commit means a mail answered twice or a cancellation forgotten.
  s = SqliteExec(db, "PRAGMA synchronous = FULL");
  if (!s.ok()) return s;
  // A checkpoint copies every page the WAL holds into the database. At SQLite's default
  // (every 1,000 pages) a drain checkpointed every few commits and copied the same hot
  // index pages again each time; at 20,000 pages (about 80 MB of WAL) a drain of 10,000
  // mails checkpoints about three times. The WAL file is cut back to 8 MB after one.
  // A chunk's transaction dirties more pages than the default 2 MB cache holds. SQLite
  // then writes some to the WAL early, and when a later request of the chunk changes
  // one of them again, it rewrites the page in place and, at commit, re-reads every
  // frame after it to redo their checksums: 16,000 reads of 4 KB and 16,000 header
  // writes per 10,000 mails. Dirty pages may fill 16 MB before any is written early;
  // a bigger transaction (an import of a large CSV) still spills past that.
  s = SqliteExec(db, "PRAGMA cache_spill = 4096");
  if (!s.ok()) return s;
  s = SqliteExec(db, ("PRAGMA wal_autocheckpoint = " + std::to_string(kCheckpointPages)).c_str());
  if (!s.ok()) return s;
  return SqliteExec(db, "PRAGMA journal_size_limit = 8388608");
}

Query SqliteStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Query(db_.get(), it->second.get(), Status::Ok());
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return Query(db_.get(), nullptr, SqliteStatus(db_.get(), rc, "prepare"));
  }
  statements_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalizer>(raw));
  return Query(db_.get(), raw, Status::Ok());
}

Status SqliteStore::Commit(const Change& change) { return CommitBatch({change}); }

Status SqliteStore::CommitBatch(const std::vector<Change>& changes) {
  Transaction txn(db_.get());
  if (!txn.status().ok()) return txn.status();
  for (size_t i = 0; i < changes.size(); ++i) {
    Status s = ApplyChange(changes[i]);
    if (!s.ok()) return Prefixed(i, changes.size(), s);  // txn rolls back
  }
  return txn.Commit();
}

Result<std::vector<Status>> SqliteStore::CommitEach(const std::vector<Change>& changes) {
  std::optional<Transaction> txn;  // none inside a group: EndGroup commits
  if (!group_open_) {
    txn.emplace(db_.get());
    if (!txn->status().ok()) return txn->status();
  }
  auto results = ApplyAll(changes);
  if (results.ok() && results->empty() && !changes.empty()) results = ApplyEach(changes);
  if (!results.ok()) return results.status();
  if (txn) {
    Status s = txn->Commit();
    if (!s.ok()) return s;
  }
  return results;
}

// One savepoint for all the changes. Refusals are rare, and a savepoint per change
// copied every page a change touched into the statement journal again for each change
// (a hot index page once per request): 60 mallocs and as many page copies per mail.
// Empty when one change was refused: none of them is applied then.
Result<std::vector<Status>> SqliteStore::ApplyAll(const std::vector<Change>& changes) {
  Status s = Prepare(kSavepointAll).Run();
  for (size_t i = 0; s.ok() && i < changes.size(); ++i) s = ApplyChange(changes[i]);
  if (EndsGroup(s)) return s;
  Status ended = EndSavepoint(s, kRollbackToAll, kReleaseAll);
  if (!ended.ok()) return ended;
  if (!s.ok()) return std::vector<Status>{};
  return std::vector<Status>(changes.size(), Status::Ok());
}

// Ends the savepoint that `rollback_to` and `release` name, undoing it first when what
// it held was refused (`applied` not ok).
Status SqliteStore::EndSavepoint(const Status& applied, const char* rollback_to,
                                 const char* release) {
  if (!applied.ok()) {
    Status undo = Prepare(rollback_to).Run();
    if (!undo.ok()) return undo;
  }
  return Prepare(release).Run();
}

// Each change in its own savepoint, so that a refused one leaves the others applied.
Result<std::vector<Status>> SqliteStore::ApplyEach(const std::vector<Change>& changes) {
  std::vector<Status> results;
  results.reserve(changes.size());
  for (const Change& change : changes) {
    Status s = Prepare(kSavepoint).Run();
    if (s.ok()) s = ApplyChange(change);
    if (EndsGroup(s)) return s;
    Status ended = EndSavepoint(s, kRollbackTo, kRelease);
    if (!ended.ok()) return ended;
    results.push_back(std::move(s));
  }
  return results;
}

int SqliteStore::OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  if (pages >= 2 * store->wal_full_pages_) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= store->wal_full_pages_) {
    store->wal_full_();
  }
  return SQLITE_OK;
}

void SqliteStore::LeaveCheckpoints(std::function<void()> wal_full, int pages) {
  wal_full_ = std::move(wal_full);
  wal_full_pages_ = pages;
  if (!wal_full_) {
    sqlite3_wal_autocheckpoint(db_.get(), pages);  // replaces our hook
    return;
  }
  sqlite3_wal_hook(db_.get(), &SqliteStore::OnWalCommit, this);  // replaces autocheckpoint
}

Status SqliteStore::Checkpoint() {
  int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                     nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return SqliteStatus(db_.get(), rc, "checkpoint");
  return Status::Ok();
}

// Inside a group, reads are already in its transaction.
Status SqliteStore::BeginRead() {
  return group_open_ ? Status::Ok() : SqliteExec(db_.get(), "BEGIN");
}

void SqliteStore::EndRead() {
  if (group_open_) return;
  // Nothing was written: a failed COMMIT can only leave the read open, so end it anyway.
  if (!SqliteExec(db_.get(), "COMMIT").ok()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status SqliteStore::BeginGroup() {
  Status s = SqliteExec(db_.get(), "BEGIN IMMEDIATE");
  group_open_ = s.ok();
  return s;
}

Status SqliteStore::EndGroup(bool commit) {
  if (!group_open_) return Status::Ok();
  group_open_ = false;
  Status s = commit ? SqliteExec(db_.get(), "COMMIT") : Status::Ok();
  // A failed COMMIT leaves the transaction open; undone, the group's mail is tried again.
  if (!commit || !s.ok()) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

// The order matters only for foreign keys: the request row first, its id is needed by
// everything else.
Status SqliteStore::ApplyChange(const Change& change) {
  Result<int64_t> request_id = InsertRequest(change.request);
  if (!request_id.ok()) return request_id.status();
  Status s;
  if (change.use_token_hash) s = UseToken(*change.use_token_hash, change.request.arrived);
  if (s.ok() && change.subscription_update) s = UpdateSubscription(*change.subscription_update);
  if (s.ok() && change.customer_update) s = UpdateCustomer(*change.customer_update);
  for (size_t i = 0; s.ok() && i < change.audit.size(); ++i) {
    s = InsertAudit(*request_id, change.audit[i]);
  }
  for (size_t i = 0; s.ok() && i < change.replies.size(); ++i) {
    s = InsertReply(*request_id, change.replies[i]);
  }
  for (size_t i = 0; s.ok() && i < change.new_tokens.size(); ++i) {
    TokenRow token = change.new_tokens[i];
    token.request_id = *request_id;
    s = InsertToken(token);
  }
  if (s.ok() && change.suppress_email)
    s = Prepare(kSuppress).BindText(*change.suppress_email).Run();
  return s;
}

Result<int64_t> SqliteStore::InsertRequest(const RequestRecord& r) {
  // Checked rather than left to the UNIQUE constraint, so that the caller can tell a
  // mail seen before from any other constraint failure.
  Query existing = Prepare(kFindRequestKey);
  existing.BindText(r.key);
  if (existing.Step()) return Status::Permanent("duplicate request");
  if (!existing.status().ok()) return existing.status();

  Query q = Prepare(kInsertRequest);
  q.BindText(r.key).BindText(r.message_id).BindInt(r.arrived).BindText(r.sender);
  q.BindText(r.kind).BindText(r.username).BindText(r.outcome).BindText(r.detail);
  q.BindOptText(r.due_on ? std::optional<std::string>(IsoDate(*r.due_on)) : std::nullopt);
  q.BindText(r.folder);
  Status s = q.Run();
  if (!s.ok()) return s;
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get()));
}

Status SqliteStore::UseToken(const std::string& hash, int64_t at) {
  Query q = Prepare(kUseToken);
  Status s = q.BindInt(at).BindText(hash).Run();
  if (!s.ok()) return s;
  if (q.Changes() == 0) return Status::Permanent("token unknown, expired or already used");
  return Status::Ok();
}

Status SqliteStore::UpdateSubscription(const Subscription& sub) {
  Query q = Prepare(kUpdateSubscription);
  q.BindText(sub.status);
  q.BindOptText(sub.ends_on ? std::optional<std::string>(IsoDate(*sub.ends_on)) : std::nullopt);
  Status s = q.BindInt(sub.id).Run();
  if (!s.ok()) return s;
  if (q.Changes() == 0) return Status::Permanent("no subscription " + std::to_string(sub.id));
  return Status::Ok();
}

Status SqliteStore::UpdateCustomer(const Customer& c) {
  Query q = Prepare(kUpdateCustomer);
  q.BindText(c.email).BindText(c.name).BindText(c.postal_address).BindText(c.telephone);
  q.BindText(c.fax).BindInt(c.marketing_opt_in ? 1 : 0).BindText(c.username);
  Status s = q.Run();
  if (!s.ok()) return s;
  // The username is personal data: say what is missing, not whose.
  if (q.Changes() == 0) return Status::Permanent("customer to update not found");
  return Status::Ok();
}

Status SqliteStore::InsertAudit(int64_t request_id, const AuditEntry& e) {
  Query q = Prepare(kInsertAudit);
  q.BindInt(request_id).BindText(e.actor).BindText(e.entity).BindText(e.field);
  return q.BindText(e.old_value).BindText(e.new_value).Run();
}

Status SqliteStore::InsertReply(int64_t request_id, const OutboxRow& row) {
  Query q = Prepare(kInsertReply);
  q.BindInt(request_id).BindText(row.message_id).BindText(row.recipient);
  q.BindText(row.status).BindInt(row.attempts).BindInt(row.next_attempt_at);
  Status s = q.BindText(row.last_error).BindOptInt(row.sent_at).Run();
  if (!s.ok()) return s;
  const auto id = static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get()));
  return Prepare(kInsertReplyRaw).BindInt(id).BindBlob(row.raw).Run();
}

Status SqliteStore::InsertToken(const TokenRow& t) {
  Query q = Prepare(kInsertToken);
  q.BindText(t.hash).BindText(t.purpose).BindText(t.username).BindOptInt(t.request_id);
  return q.BindText(t.payload).BindInt(t.expires_at).BindOptInt(t.used_at).Run();
}

Status SqliteStore::PutToken(const TokenRow& token) { return InsertToken(token); }

Status SqliteStore::AddSuppression(const std::string& email) {
  return Prepare(kSuppress).BindText(email).Run();
}

}  // namespace mailreqd
