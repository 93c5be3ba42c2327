// SqliteStore: the Store on one SQLite file, plus what the operator commands and the
// IMAP engine need beyond the processor's port (tokens, suppression, mailbox state,
// listings, backup, CSV import).
//
// The file is opened in WAL mode with synchronous=FULL (a committed request survives a
// power cut), foreign keys on and a busy timeout; the schema is migrated at Open. Every
// statement is prepared once, with bound parameters, and cached in the object.
//
// One SqliteStore is one connection: use it from one thread at a time. Several
// processes or threads may each open their own on the same file; WAL lets readers run
// beside the one writer, and writers wait up to the busy timeout, then get Transient.
//
// Error categories (see sqlite_statement.h): busy/locked/I-O -> Transient (retry later);
// constraint failures and "duplicate request" -> Permanent; corruption, unopenable file,
// schema newer than this binary -> Fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon/store.h"
#include "daemon/store_sent_journal.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mailreqd {

class Query;

class SqliteStore : public Store {
 public:
  static constexpr int kDefaultBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` and migrates it to the current schema.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   int busy_timeout_ms = kDefaultBusyTimeoutMs);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // --- Store (see store.h) ---
  Result<std::optional<RequestRecord>> FindRequest(const std::string& key) override;
  Result<std::optional<Customer>> FindCustomer(const std::string& username) override;
  // Case-insensitive on the address (RFC 5321 allows case-sensitive local parts; no
  // real mailbox provider uses that, and customers type their address as they like).
  Result<std::vector<Customer>> CustomersByEmail(const std::string& email) override;
  Result<std::vector<Subscription>> Subscriptions(const std::string& username) override;
  Result<std::vector<RequestRecord>> RequestsOf(const std::string& username) override;
  Status Commit(const Change& change) override;  // CommitBatch({change})
  Result<std::vector<OutboxRow>> DueReplies(int64_t now, int limit) override;
  // Writes status, attempts, next_attempt_at, last_error and sent_at (now, if the row
  // is "sent" and sent_at is unset). Permanent if no row has row.id. With
  // JournalSentMarks, rows all sent go to the journal instead (see below).
  Status MarkReplies(const std::vector<OutboxRow>& rows) override;
  // Counts what the journal holds too.
  Result<int> SentSince(const std::string& recipient, int64_t since) override;
  Result<int> Attempts(const std::string& key) override;
  Status AddAttempt(const std::vector<std::string>& keys) override;
  Status ClearAttempts(const std::vector<std::string>& keys) override;
  Status BeginRead() override;  // BEGIN (deferred): the snapshot starts at the first read
  void EndRead() override;
  // --- Checkpoints ---
  // From now on, a commit of this connection that leaves `pages` or more in the WAL
  // (by default 20,000, as for every connection) calls `wal_full` (on the committing
  // thread) instead of checkpointing there, so that another thread calls Checkpoint()
  // on its own connection, off this one's path. At twice that (the other thread is
  // behind) this connection checkpoints itself. An empty `wal_full` goes back to
  // SQLite's own checkpoints on this connection, every `pages` (the other thread is
  // going away).
  void LeaveCheckpoints(std::function<void()> wal_full, int pages = kCheckpointPages);
  // WAL pages that make a checkpoint due, on every connection (see Configure).
  static constexpr int kCheckpointPages = 20000;
  // A PASSIVE checkpoint: copies what it can of the WAL into the database, waiting for
  // no reader or writer.
  Status Checkpoint();

  Status BeginGroup() override;  // BEGIN IMMEDIATE: holds the write lock until EndGroup
  Status EndGroup(bool commit) override;

  // --- The sending connection's journal (store_sent_journal.h) ---
  // From now on, replies marked sent go to "<database>-sent" with one write(2), and are
  // folded into the outbox table: from 250 marks on when the write lock is free (at
  // 1,000 whether or not), when DueReplies finds nothing left to send and the lock is
  // free, and when this object is destroyed. DueReplies leaves them out meanwhile.
  // The first use folds what a crashed holder left. Only one connection has the journal
  // at a time; others write their marks directly.
  void JournalSentMarks();
  // Writes the journaled marks into the outbox table (synchronous=NORMAL) and empties
  // the journal. Transient when the database is busy: the journal keeps them. kIfFree
  // does nothing while another connection holds the write lock (see MarkReplies).
  enum class Wait { kForLock, kIfFree };
  Status FoldSentMarks(Wait wait = Wait::kForLock);

  // --- Group commit ---
  // All Changes in one transaction, all or nothing. On failure nothing is written and
  // the message names the failing change: "change 3: duplicate request".
  Status CommitBatch(const std::vector<Change>& changes);
  // All Changes in one transaction, each in its own savepoint: a Change that fails
  // Permanently (duplicate, constraint) is skipped and the others are written. Returns
  // one Status per Change; a Transient or Fatal error aborts the whole batch instead.
  Result<std::vector<Status>> CommitEach(const std::vector<Change>& changes) override;

  // --- Confirmation tokens (see TokenRow in store.h) ---
  Status PutToken(const TokenRow& token);  // Permanent if the hash exists
  Result<std::optional<TokenRow>> FindToken(const std::string& hash) override;

  // --- Marketing suppression list for non-customers (case-insensitive) ---
  Status AddSuppression(const std::string& email);  // idempotent
  Result<bool> IsSuppressed(const std::string& email);

  // --- IMAP progress per mailbox ---
  Result<std::optional<MailboxState>> GetMailboxState(const std::string& mailbox);
  Status SetMailboxState(const MailboxState& state);  // insert or replace

  // --- Operator queries ---
  // Requests arrived at or after `since` (if given) of `kind` (if given), oldest first.
  Result<std::vector<RequestRecord>> Requests(std::optional<int64_t> since,
                                              std::optional<std::string> kind);
  // Requests waiting for a human (folder "review"), earliest due_on first, then those
  // without a due date.
  Result<std::vector<RequestRecord>> DueRequests();
  Result<std::vector<AuditEntry>> AuditOf(int64_t request_id);
  // A human has dealt with request `id` (one that DueRequests lists): its folder becomes
  // "handled", so that it leaves that list, and the audit says who and when. Permanent
  // when there is no such request or it is not waiting for a human.
  Status MarkHandled(int64_t id, const std::string& actor);

  // Writes a consistent copy of the database to `path` with SQLite's online backup API,
  // while other connections keep writing. The copy goes to `path`.tmp and is renamed
  // over `path` only when complete, so `path` is never a half-written file.
  Status Backup(const std::string& path);

  // --- CSV import (validated rows from csv_import.h), one transaction each ---
  // Insert or update by username.
  Status UpsertCustomers(const std::vector<Customer>& customers);
  // Insert or update by (username, service). An unchanged anchor keeps the stored
  // status and ends_on; a new anchor starts over as "active" with no end date.
  Status UpsertSubscriptions(const std::vector<Subscription>& subscriptions);
  Result<std::unordered_set<std::string>> Usernames();

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };

  explicit SqliteStore(sqlite3* db);
  Status Configure(int busy_timeout_ms);
  Status WriteMarks(const std::vector<OutboxRow>& rows, std::vector<int64_t>& missing);
  // `sql` with each of `keys` as its one parameter, in one transaction.
  Status RunForEach(const char* sql, const std::vector<std::string>& keys);
  // Runs `write` under synchronous=NORMAL (see sqlite_store_marks.cc).
  Status WithoutFsync(const std::function<Status()>& write);
  // Appends `rows` (all sent) to the journal; false when that failed.
  bool Journal(const std::vector<OutboxRow>& rows);
  // Opens the journal when asked for and free; folds what it holds.
  Status TakeJournal();
  // Folds when the journal is long: see MarkReplies.
  Status FoldIfLong();
  int JournaledSince(const std::string& recipient, int64_t since) const;
  // The first `limit` of the outbox row `ids` that the journal does not hold.
  std::vector<int64_t> NotJournaled(std::vector<int64_t> ids, int limit) const;
  // The cached statement for `sql` (a string constant: the cache is keyed by address).
  // Two Queries of the same `sql` must not be alive at once.
  Query Prepare(const char* sql);
  // CommitEach's two ways: all changes in one savepoint (empty when one is refused), or
  // each in its own.
  Result<std::vector<Status>> ApplyAll(const std::vector<Change>& changes);
  Result<std::vector<Status>> ApplyEach(const std::vector<Change>& changes);
  Status EndSavepoint(const Status& applied, const char* rollback_to, const char* release);
  // The steps of writing one Change, inside the caller's transaction.
  Status ApplyChange(const Change& change);
  Result<int64_t> InsertRequest(const RequestRecord& r);
  Status UseToken(const std::string& hash, int64_t at);
  Status UpdateSubscription(const Subscription& s);
  Status UpdateCustomer(const Customer& c);
  Status InsertAudit(int64_t request_id, const AuditEntry& e);
  Status InsertReply(int64_t request_id, const OutboxRow& row);
  Status InsertToken(const TokenRow& token);

  std::unique_ptr<sqlite3, Closer> db_;  // declared first: destroyed after statements_
  std::unordered_map<const char*, std::unique_ptr<sqlite3_stmt, Finalizer>> statements_;
  std::string journal_path_;  // empty: marks go to the table
  std::optional<SentJournal> journal_;
  std::vector<SentMark> journaled_;  // appended, not yet folded
  // When each journaled reply went, by recipient in lower case, for SentSince: a walk of
  // the whole journal per reply was 3% of a drain. Marks a crashed holder left name
  // none; they count only towards all replies.
  std::unordered_map<std::string, std::vector<int64_t>> journaled_to_;
  size_t next_fold_try_ = 0;  // FoldIfLong tries no fold before the journal holds this many
  int busy_timeout_ms_ = 0;
  bool group_open_ = false;  // between BeginGroup and EndGroup
  std::function<void()> wal_full_;  // see LeaveCheckpoints
  int wal_full_pages_ = 0;
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
};

}  // namespace mailreqd
