// Store: the durable state (customers, subscriptions, requests, outbox, audit trail).
// Real: SqliteStore (sqlite_store.h). The processor only sees this interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/period.h"
#include "daemon/status.h"

namespace mailreqd {

struct Customer {
  std::string username;
  std::string email;
  std::string name;
  std::string postal_address;
  std::string telephone;
  std::string fax;
  bool marketing_opt_in = false;
};

// status is "active" or "cancelling" as stored; "ended" is derived by the reader when
// ends_on is before today (see EffectiveStatus).
struct Subscription {
  int64_t id = 0;
  std::string username;
  std::string service;
  BillingPeriod period = BillingPeriod::kMonthly;
  Date anchor;
  std::string status = "active";
  std::optional<Date> ends_on;
};
// "ended" when ends_on is before `today`, else the stored status.
std::string EffectiveStatus(const Subscription& s, Date today);

// One row per mail received. `key` is "mid:<Message-ID>" or "sha256:<hex of raw bytes>".
struct RequestRecord {
  int64_t id = 0;
  std::string key;
  std::string message_id;
  int64_t arrived = 0;         // unix seconds (IMAP INTERNALDATE)
  std::string sender;          // From address as received
  std::string kind;            // KindName()
  std::string username;        // may be empty
  std::string outcome;         // e.g. "cancelled", "review", "no_reply:auto-submitted"
  std::string detail;          // human-readable, e.g. "ends 2026-02-27"
  std::optional<Date> due_on;  // for requests left open for a human
  std::string folder;          // where the mail belongs: processed / review / quarantine
};

struct OutboxRow {
  int64_t id = 0;
  int64_t request_id = 0;
  std::string message_id;  // the reply's own Message-ID, stable across retries
  std::string recipient;
  std::string raw;                 // the whole RFC 5322 reply, CRLF line ends
  std::string status = "pending";  // pending / sent / failed
  int attempts = 0;
  int64_t next_attempt_at = 0;  // unix seconds
  std::string last_error;
  std::optional<int64_t> sent_at;  // unix seconds; MarkReply stamps "now" when sent and unset
};

struct AuditEntry {
  std::string actor;   // who asked (sender address)
  std::string entity;  // "subscription:12", "customer:alice"
  std::string field;
  std::string old_value;
  std::string new_value;
};

// A confirmation token. Only the SHA-256 of the secret is stored (see sha256.h), so a
// copy of the database cannot be used to confirm anything.
struct TokenRow {
  std::string hash;     // hex SHA-256 of the secret sent by mail
  std::string purpose;  // e.g. "data_correction"
  std::string username;
  std::optional<int64_t> request_id;  // the request that issued it
  std::string payload;                // what confirming does, e.g. a JSON of the change
  int64_t expires_at = 0;             // unix seconds
  std::optional<int64_t> used_at;     // unix seconds; set once, when confirmed
};

// How far the IMAP engine got in one mailbox (RFC 3501 §2.3.1.1: UIDs are only
// meaningful together with UIDVALIDITY).
struct MailboxState {
  std::string mailbox;
  int64_t uidvalidity = 0;
  int64_t last_uid = 0;
};

// Everything one request changes, written in one transaction: either all or none.
struct Change {
  RequestRecord request;
  std::optional<Subscription> subscription_update;  // matched by id; status and ends_on written
  std::optional<Customer> customer_update;          // matched by username
  std::vector<AuditEntry> audit;
  std::vector<OutboxRow> replies;    // request_id filled in by the store
  std::vector<TokenRow> new_tokens;  // request_id filled in by the store
  // Marks this token used (used_at = request.arrived). Fails the whole Change with a
  // Permanent "token unknown or already used" unless it exists and is unused: the
  // check and the update are one transaction, so a token confirms at most once.
  std::optional<std::string> use_token_hash;
  std::optional<std::string> suppress_email;  // marketing opt-out of a non-customer
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::optional<RequestRecord>> FindRequest(const std::string& key) = 0;
  virtual Result<std::optional<Customer>> FindCustomer(const std::string& username) = 0;
  virtual Result<std::vector<Customer>> CustomersByEmail(const std::string& email) = 0;
  virtual Result<std::vector<Subscription>> Subscriptions(const std::string& username) = 0;
  // The requests recorded for an account, oldest first (an access request lists them).
  virtual Result<std::vector<RequestRecord>> RequestsOf(const std::string& username) = 0;
  // The token whose secret hashes to `hash` (hex SHA-256), used or not, or nullopt.
  virtual Result<std::optional<TokenRow>> FindToken(const std::string& hash) = 0;
  // Writes the Change in one transaction. A request whose key is already stored is a
  // Permanent "duplicate request" and nothing changes (the caller treats it as done).
  // SQLITE_BUSY and I/O errors are Transient; constraint failures Permanent.
  virtual Status Commit(const Change& change) = 0;
  // Group commit: all Changes in one durable transaction, each in its own savepoint. A
  // Change failing Permanently is skipped (its Status says why); Transient or Fatal
  // aborts the whole batch.
  virtual Result<std::vector<Status>> CommitEach(const std::vector<Change>& changes) = 0;
  // Pending replies with next_attempt_at <= now, oldest (lowest id) first.
  virtual Result<std::vector<OutboxRow>> DueReplies(int64_t now, int limit) = 0;
  // Writes status/attempts/next_attempt_at/last_error/sent_at of each row, in one
  // transaction. A row that no longer exists is skipped and reported (Permanent) after
  // the others are written.
  virtual Status MarkReplies(const std::vector<OutboxRow>& rows) = 0;
  // Replies sent at or after `since` to `recipient` (case-insensitive), or to anyone
  // when `recipient` is empty: what the rate limits count.
  virtual Result<int> SentSince(const std::string& recipient, int64_t since) = 0;
  // Processing attempts of mailbox messages (keys "<uidvalidity>:<uid>"), for poison
  // messages: AddAttempt counts one more try for each key before the try, written so
  // that it survives the process dying.
  virtual Result<int> Attempts(const std::string& key) = 0;
  virtual Status AddAttempt(const std::vector<std::string>& keys) = 0;
  virtual Status ClearAttempts(const std::vector<std::string>& keys) = 0;

  // Reads between BeginRead and EndRead see one snapshot and pay for locking once: a
  // drain makes several lookups per mail, and each lone read otherwise takes the
  // database's locks and, after another connection's write, re-reads its pages. No
  // write may be made in between. A store that has no such cost keeps these no-ops.
  virtual Status BeginRead() { return Status::Ok(); }
  virtual void EndRead() {}

  // A group of CommitEach calls, made durable and visible to other connections at once
  // by EndGroup(true) (one fsync); EndGroup(false) undoes all of it. Reads in between
  // see the group's own writes. The processor records a chunk of mail in a pass or
  // three (a mail waits for the next pass while an earlier one of its account is in
  // this one), and each pass's commit used to pay an fsync of its own. No Commit in
  // between, only CommitEach. A store without that cost keeps these no-ops.
  virtual Status BeginGroup() { return Status::Ok(); }
  virtual Status EndGroup(bool commit) {
    (void)commit;
    return Status::Ok();
  }
};

// A read snapshot for the lifetime of a scope (see Store::BeginRead). If it cannot be
// taken, the reads simply run one by one, as they would without it.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Store& store) : store_(store), open_(store.BeginRead().ok()) {}
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot() {
    if (open_) store_.EndRead();
  }

 private:
  Store& store_;
  bool open_;
};

}  // namespace mailreqd
