// SqliteStore: reading rows back, the outbox, tokens, suppression and mailbox state.
#include <utility>

#include "daemon/sqlite_statement.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

// The SELECT lists below match the column numbers in the Read* functions.
constexpr const char* kFindRequest =
    "SELECT id, key, message_id, arrived, sender, kind, username, outcome, detail, due_on,"
    " folder FROM requests WHERE key = ?";
constexpr const char* kRequests =
    "SELECT id, key, message_id, arrived, sender, kind, username, outcome, detail, due_on,"
    " folder FROM requests WHERE (?1 IS NULL OR arrived >= ?1) AND (?2 IS NULL OR kind = ?2)"
    " ORDER BY arrived, id";
constexpr const char* kRequestsOf =
    "SELECT id, key, message_id, arrived, sender, kind, username, outcome, detail, due_on,"
    " folder FROM requests WHERE username = ? ORDER BY arrived, id";
constexpr const char* kDueRequests =
    "SELECT id, key, message_id, arrived, sender, kind, username, outcome, detail, due_on,"
    " folder FROM requests WHERE folder = 'review' ORDER BY due_on IS NULL, due_on, id";
constexpr const char* kFindCustomer =
    "SELECT username, email, name, postal_address, telephone, fax, marketing_opt_in"
    " FROM customers WHERE username = ?";
constexpr const char* kCustomersByEmail =
    "SELECT username, email, name, postal_address, telephone, fax, marketing_opt_in"
    " FROM customers WHERE email = ? COLLATE NOCASE ORDER BY username";
constexpr const char* kSubscriptions =
    "SELECT id, username, service, period, anchor, status, ends_on FROM subscriptions"
    " WHERE username = ? ORDER BY service";
// Due replies are chosen by id from the index alone, then read one by one: sorting whole
// rows, as "ORDER BY id LIMIT n" over outbox_due would, reads every due reply's text to
// keep n of them, and the journal's replies (still "pending" here) are left out unread.
constexpr const char* kDueIds =
    "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id"
    " LIMIT ?";
constexpr const char* kReply =
    "SELECT o.id, request_id, message_id, recipient, raw, status, attempts, next_attempt_at,"
    " last_error, sent_at FROM outbox o JOIN outbox_raw r ON r.id = o.id WHERE o.id = ?";
constexpr const char* kAuditOf =
    "SELECT actor, entity, field, old_value, new_value FROM audit WHERE request_id = ?"
    " ORDER BY id";
constexpr const char* kFindToken =
    "SELECT hash, purpose, username, request_id, payload, expires_at, used_at FROM tokens"
    " WHERE hash = ?";
constexpr const char* kIsSuppressed = "SELECT 1 FROM suppression WHERE email = ?";
constexpr const char* kGetMailboxState =
    "SELECT mailbox, uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?";
constexpr const char* kSetMailboxState =
    "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)"
    " ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
    " last_uid = excluded.last_uid";

std::optional<Date> OptDate(const Query& q, int col) {
  if (q.IsNull(col)) return std::nullopt;
  return ParseIsoDate(q.Text(col));
}

RequestRecord ReadRequest(const Query& q) {
  RequestRecord r;
  r.id = q.Int(0);
  r.key = q.Text(1);
  r.message_id = q.Text(2);
  r.arrived = q.Int(3);
  r.sender = q.Text(4);
  r.kind = q.Text(5);
  r.username = q.Text(6);
  r.outcome = q.Text(7);
  r.detail = q.Text(8);
  r.due_on = OptDate(q, 9);
  r.folder = q.Text(10);
  return r;
}

Customer ReadCustomer(const Query& q) {
  Customer c;
  c.username = q.Text(0);
  c.email = q.Text(1);
  c.name = q.Text(2);
  c.postal_address = q.Text(3);
  c.telephone = q.Text(4);
  c.fax = q.Text(5);
  c.marketing_opt_in = q.Int(6) != 0;
  return c;
}

Subscription ReadSubscription(const Query& q) {
  Subscription s;
  s.id = q.Int(0);
  s.username = q.Text(1);
  s.service = q.Text(2);
  s.period = ParsePeriod(q.Text(3)).value_or(BillingPeriod::kMonthly);  // CHECKed in schema
  s.anchor = ParseIsoDate(q.Text(4)).value_or(Date{});
  s.status = q.Text(5);
  s.ends_on = OptDate(q, 6);
  return s;
}

OutboxRow ReadReply(const Query& q) {
  OutboxRow r;
  r.id = q.Int(0);
  r.request_id = q.Int(1);
  r.message_id = q.Text(2);
  r.recipient = q.Text(3);
  r.raw = q.Text(4);
  r.status = q.Text(5);
  r.attempts = static_cast<int>(q.Int(6));
  r.next_attempt_at = q.Int(7);
  r.last_error = q.Text(8);
  r.sent_at = q.OptInt(9);
  return r;
}

TokenRow ReadToken(const Query& q) {
  TokenRow t;
  t.hash = q.Text(0);
  t.purpose = q.Text(1);
  t.username = q.Text(2);
  t.request_id = q.OptInt(3);
  t.payload = q.Text(4);
  t.expires_at = q.Int(5);
  t.used_at = q.OptInt(6);
  return t;
}

// Collects every row of `q` with `read`, or the error that stopped it.
template <typename T, typename Read>
Result<std::vector<T>> AllRows(Query& q, Read read) {
  std::vector<T> rows;
  while (q.Step()) rows.push_back(read(q));
  if (!q.status().ok()) return q.status();
  return rows;
}

// The single row of `q` (or none) read with `read`.
template <typename T, typename Read>
Result<std::optional<T>> OneRow(Query& q, Read read) {
  if (q.Step()) return std::optional<T>(read(q));
  if (!q.status().ok()) return q.status();
  return std::optional<T>();
}

}  // namespace

Result<std::optional<RequestRecord>> SqliteStore::FindRequest(const std::string& key) {
  Query q = Prepare(kFindRequest);
  q.BindText(key);
  return OneRow<RequestRecord>(q, ReadRequest);
}

Result<std::optional<Customer>> SqliteStore::FindCustomer(const std::string& username) {
  Query q = Prepare(kFindCustomer);
  q.BindText(username);
  return OneRow<Customer>(q, ReadCustomer);
}

Result<std::vector<Customer>> SqliteStore::CustomersByEmail(const std::string& email) {
  Query q = Prepare(kCustomersByEmail);
  q.BindText(email);
  return AllRows<Customer>(q, ReadCustomer);
}

Result<std::vector<Subscription>> SqliteStore::Subscriptions(const std::string& username) {
  Query q = Prepare(kSubscriptions);
  q.BindText(username);
  return AllRows<Subscription>(q, ReadSubscription);
}

Result<std::vector<OutboxRow>> SqliteStore::DueReplies(int64_t now, int limit) {
  Status s = TakeJournal();
  if (!s.ok()) return s;
  // Replies marked sent in the journal are still "pending" in the table: as many more ids
  // are asked for, and those are left out. Folding them first would wait for the write
  // lock, and each fold makes the other connections drop their page caches.
  std::vector<int64_t> ids;
  {
    Query q = Prepare(kDueIds);
    q.BindInt(now).BindInt(limit + static_cast<int64_t>(journaled_.size()));
    while (q.Step()) ids.push_back(q.Int(0));
    if (!q.status().ok()) return q.status();
  }
  ids = NotJournaled(std::move(ids), limit);
  if (ids.empty()) {  // nothing left to send: the table may as well be told now
    s = FoldSentMarks(Wait::kIfFree);
    if (!s.ok()) return s;
    return std::vector<OutboxRow>{};
  }
  ReadSnapshot snapshot(*this);  // locks once for the lot
  std::vector<OutboxRow> rows;
  for (int64_t id : ids) {
    Query q = Prepare(kReply);
    q.BindInt(id);
    if (q.Step()) rows.push_back(ReadReply(q));
    if (!q.status().ok()) return q.status();
  }
  return rows;
}

Result<std::vector<RequestRecord>> SqliteStore::Requests(std::optional<int64_t> since,
                                                         std::optional<std::string> kind) {
  Query q = Prepare(kRequests);
  q.BindOptInt(since).BindOptText(kind);
  return AllRows<RequestRecord>(q, ReadRequest);
}

Result<std::vector<RequestRecord>> SqliteStore::RequestsOf(const std::string& username) {
  Query q = Prepare(kRequestsOf);
  q.BindText(username);
  return AllRows<RequestRecord>(q, ReadRequest);
}

Result<std::vector<RequestRecord>> SqliteStore::DueRequests() {
  Query q = Prepare(kDueRequests);
  return AllRows<RequestRecord>(q, ReadRequest);
}

Result<std::vector<AuditEntry>> SqliteStore::AuditOf(int64_t request_id) {
  Query q = Prepare(kAuditOf);
  q.BindInt(request_id);
  return AllRows<AuditEntry>(q, [](const Query& row) {
    return AuditEntry{row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4)};
  });
}

Result<std::optional<TokenRow>> SqliteStore::FindToken(const std::string& hash) {
  Query q = Prepare(kFindToken);
  q.BindText(hash);
  return OneRow<TokenRow>(q, ReadToken);
}

Result<bool> SqliteStore::IsSuppressed(const std::string& email) {
  Query q = Prepare(kIsSuppressed);
  q.BindText(email);
  const bool found = q.Step();
  if (!q.status().ok()) return q.status();
  return found;
}

Result<std::optional<MailboxState>> SqliteStore::GetMailboxState(const std::string& mailbox) {
  Query q = Prepare(kGetMailboxState);
  q.BindText(mailbox);
  return OneRow<MailboxState>(q, [](const Query& row) {
    return MailboxState{row.Text(0), row.Int(1), row.Int(2)};
  });
}

Status SqliteStore::SetMailboxState(const MailboxState& state) {
  Query q = Prepare(kSetMailboxState);
  return q.BindText(state.mailbox).BindInt(state.uidvalidity).BindInt(state.last_uid).Run();
}

}  // namespace mailreqd
