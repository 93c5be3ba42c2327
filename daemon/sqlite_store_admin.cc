// SqliteStore: what the operator commands write: online backup, CSV import, and a
// review request marked handled.
#include <cstdio>
#include <string>

#include "daemon/sqlite_statement.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

constexpr const char* kUpsertCustomer =
    "INSERT INTO customers (username, email, name, postal_address, telephone, fax,"
    " marketing_opt_in) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET"
    " email = excluded.email, name = excluded.name, postal_address = excluded.postal_address,"
    " telephone = excluded.telephone, fax = excluded.fax,"
    " marketing_opt_in = excluded.marketing_opt_in";
// SET expressions all see the old row, so `anchor = excluded.anchor` compares the stored
// anchor with the imported one in every CASE, whatever the order of assignments.
constexpr const char* kUpsertSubscription =
    "INSERT INTO subscriptions (username, service, period, anchor, status, ends_on)"
    " VALUES (?, ?, ?, ?, 'active', NULL) ON CONFLICT (username, service) DO UPDATE SET"
    " period = excluded.period,"
    " status = CASE WHEN anchor = excluded.anchor THEN status ELSE 'active' END,"
    " ends_on = CASE WHEN anchor = excluded.anchor THEN ends_on ELSE NULL END,"
    " anchor = excluded.anchor";
constexpr const char* kUsernames = "SELECT username FROM customers";
constexpr const char* kFolderOf = "SELECT folder FROM requests WHERE id = ?";
constexpr const char* kSetFolder = "UPDATE requests SET folder = ? WHERE id = ?";
constexpr const char* kAuditRequest =
    "INSERT INTO audit (at, request_id, actor, entity, field, old_value, new_value)"
    " VALUES (unixepoch(), ?1, ?2, 'request:' || ?1, 'folder', ?3, ?4)";
constexpr const char* kReview = "review";    // FolderKind(Folder::kReview)
constexpr const char* kHandled = "handled";

constexpr int kBackupBusyRetries = 200;  // x 50 ms: ten seconds of a locked source
constexpr int kBackupRetrySleepMs = 50;

// Copies every page of `source` into `dest` in one step: a single read transaction on
// the source, so the copy is one consistent snapshot. In WAL mode that read does not
// block the writers; they go on appending to the WAL meanwhile.
Status CopyPages(sqlite3* source, sqlite3* dest) {
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
  if (backup == nullptr) return SqliteStatus(dest, sqlite3_errcode(dest), "backup init");
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < kBackupBusyRetries; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(kBackupRetrySleepMs);
  }
  const int finish_rc = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteStatus(dest, rc, "backup step");
  if (finish_rc != SQLITE_OK) return SqliteStatus(dest, finish_rc, "backup finish");
  return Status::Ok();
}

void RemoveWithSidecars(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
}

}  // namespace

Status SqliteStore::Backup(const std::string& path) {
  const std::string tmp = path + ".tmp";
  RemoveWithSidecars(tmp);  // left over from an interrupted backup
  Status s;
  {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    SqliteDb dest(raw);
    if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "open backup " + tmp);
    s = CopyPages(db_.get(), dest.get());
  }  // closed here, before the rename: no open handle on the file
  if (!s.ok()) {
    RemoveWithSidecars(tmp);
    return s;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    RemoveWithSidecars(tmp);
    return Status::Permanent("backup: cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

Status SqliteStore::UpsertCustomers(const std::vector<Customer>& customers) {
  Transaction txn(db_.get());
  if (!txn.status().ok()) return txn.status();
  for (const Customer& c : customers) {
    Query q = Prepare(kUpsertCustomer);
    q.BindText(c.username).BindText(c.email).BindText(c.name).BindText(c.postal_address);
    Status s = q.BindText(c.telephone).BindText(c.fax).BindInt(c.marketing_opt_in).Run();
    if (!s.ok()) return s;
  }
  return txn.Commit();
}

Status SqliteStore::UpsertSubscriptions(const std::vector<Subscription>& subscriptions) {
  Transaction txn(db_.get());
  if (!txn.status().ok()) return txn.status();
  for (const Subscription& sub : subscriptions) {
    Query q = Prepare(kUpsertSubscription);
    q.BindText(sub.username).BindText(sub.service).BindText(PeriodName(sub.period));
    Status s = q.BindText(IsoDate(sub.anchor)).Run();
    if (!s.ok()) return s;
  }
  return txn.Commit();
}

Result<std::unordered_set<std::string>> SqliteStore::Usernames() {
  Query q = Prepare(kUsernames);
  std::unordered_set<std::string> names;
  while (q.Step()) names.insert(q.Text(0));
  if (!q.status().ok()) return q.status();
  return names;
}

Status SqliteStore::MarkHandled(int64_t id, const std::string& actor) {
  Transaction tx(db_.get());
  if (!tx.status().ok()) return tx.status();
  std::string was;
  {
    Query folder = Prepare(kFolderOf);
    folder.BindInt(id);
    if (!folder.Step()) {
      if (!folder.status().ok()) return folder.status();
      return Status::Permanent("no request " + std::to_string(id));
    }
    was = folder.Text(0);
  }
  if (was != kReview) {
    return Status::Permanent("request " + std::to_string(id) +
                             " is not waiting for a human (folder \"" + was + "\")");
  }
  Status s = Prepare(kSetFolder).BindText(kHandled).BindInt(id).Run();
  if (s.ok()) {
    s = Prepare(kAuditRequest).BindInt(id).BindText(actor).BindText(was).BindText(kHandled).Run();
  }
  if (!s.ok()) return s;
  return tx.Commit();
}

}  // namespace mailreqd
