// SqliteStore: what became of each reply (MarkReplies), and the journal of replies the
// server accepted that the sending connection keeps (store_sent_journal.h).
#include <algorithm>
#include <unordered_set>
#include <utility>

#include "daemon/sqlite_statement.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

constexpr const char* kMarkReply =
    "UPDATE outbox SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4,"
    " sent_at = coalesce(?5, CASE WHEN ?1 = 'sent' THEN coalesce(sent_at, unixepoch()) END)"
    " WHERE id = ?6";
constexpr const char* kMarkSent =
    "UPDATE outbox SET status = 'sent', attempts = ?, last_error = '', sent_at = ? WHERE id = ?";

// Marks held in the journal before a fold is tried, and before one waits for the write
// lock: a bound on the memory they take, on the ids DueReplies reads past, and on the
// pages a fold dirties at once (a fold of 4,000 marks raised the peak RSS of a
// 50,000-mail drain by 1 MB). A drain holds the write lock for most of each chunk, and
// SQLite's busy handler sleeps up to 100 ms between tries while the drain takes the
// lock again within milliseconds: a sender waiting to fold sent nothing for 0.75 s.
// So a fold is only tried, once per kFoldStep more marks, until there are kMaxJournaled.
constexpr size_t kFoldFrom = 250;
constexpr size_t kFoldStep = 50;
constexpr size_t kMaxJournaled = 1000;

// SQLite's NOCASE, which the outbox_recipient_sent index compares with, folds ASCII only.
std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool AllSent(const std::vector<OutboxRow>& rows) {
  return std::all_of(rows.begin(), rows.end(),
                     [](const OutboxRow& r) { return r.status == "sent" && r.sent_at; });
}

}  // namespace

void SqliteStore::JournalSentMarks() {
  journal_path_ = std::string(sqlite3_db_filename(db_.get(), "main")) + "-sent";
}

Status SqliteStore::MarkReplies(const std::vector<OutboxRow>& rows) {
  if (rows.empty()) return Status::Ok();
  Status s = TakeJournal();
  if (!s.ok()) return s;
  if (journal_ && AllSent(rows) && Journal(rows)) return FoldIfLong();
  s = FoldSentMarks();  // the earlier marks first
  if (!s.ok()) return s;
  std::vector<int64_t> missing;
  s = WithoutFsync([&] { return WriteMarks(rows, missing); });
  if (!s.ok()) return s;
  if (!missing.empty()) return Status::Permanent("no outbox row " + std::to_string(missing[0]));
  return Status::Ok();
}

bool SqliteStore::Journal(const std::vector<OutboxRow>& rows) {
  std::vector<SentMark> lines;
  for (const OutboxRow& r : rows) lines.push_back({r.id, r.attempts, *r.sent_at});
  // When the disk refuses the journal, the database may still take the marks.
  if (!journal_->Append(lines).ok()) return false;
  for (size_t i = 0; i < rows.size(); ++i) {
    journaled_.push_back(lines[i]);
    journaled_to_[LowerAscii(rows[i].recipient)].push_back(lines[i].sent_at);
  }
  return true;
}

Status SqliteStore::WriteMarks(const std::vector<OutboxRow>& rows, std::vector<int64_t>& missing) {
  Transaction tx(db_.get());
  if (!tx.status().ok()) return tx.status();
  for (const auto& row : rows) {
    Query q = Prepare(kMarkReply);
    q.BindText(row.status).BindInt(row.attempts).BindInt(row.next_attempt_at);
    q.BindText(row.last_error).BindOptInt(row.sent_at).BindInt(row.id);
    Status s = q.Run();
    if (!s.ok()) return s;
    if (q.Changes() == 0) missing.push_back(row.id);
  }
  return tx.Commit();
}

Status SqliteStore::WithoutFsync(const std::function<Status()>& write) {
  // Marking replies sent need not survive a power cut, only a crash (which WAL with
  // synchronous=NORMAL does): losing the marks re-sends those replies with the same
  // Message-IDs, which receivers deduplicate. It saves an fsync per batch.
  Status s = SqliteExec(db_.get(), "PRAGMA synchronous = NORMAL");
  if (!s.ok()) return s;
  s = write();
  Status full = SqliteExec(db_.get(), "PRAGMA synchronous = FULL");
  return s.ok() ? full : s;
}

Status SqliteStore::TakeJournal() {
  if (journal_ || journal_path_.empty()) return Status::Ok();
  auto opened = SentJournal::TryOpen(journal_path_);
  if (!opened.ok()) return opened.status();
  if (!*opened) return Status::Ok();  // another connection sends: marks go to the table
  auto left = (*opened)->ReadAll();   // what the last holder did not fold (it died)
  if (!left.ok()) return left.status();
  journal_ = std::move(*opened);
  journaled_.insert(journaled_.end(), left->begin(), left->end());
  return FoldSentMarks();
}

Status SqliteStore::FoldIfLong() {
  if (journaled_.size() >= kMaxJournaled) return FoldSentMarks();
  if (journaled_.size() < std::max(kFoldFrom, next_fold_try_)) return Status::Ok();
  next_fold_try_ = journaled_.size() + kFoldStep;
  return FoldSentMarks(Wait::kIfFree);
}

Status SqliteStore::FoldSentMarks(Wait wait) {
  Status s = TakeJournal();
  if (!s.ok() || journaled_.empty()) return s;
  bool busy = false;
  s = WithoutFsync([&] {
    if (wait == Wait::kIfFree) sqlite3_busy_timeout(db_.get(), 0);
    Transaction tx(db_.get());
    busy = !tx.status().ok() && (sqlite3_errcode(db_.get()) & 0xff) == SQLITE_BUSY;
    if (wait == Wait::kIfFree) sqlite3_busy_timeout(db_.get(), busy_timeout_ms_);
    if (!tx.status().ok()) return tx.status();
    for (const SentMark& m : journaled_) {
      // A row gone since (none are deleted today) has nothing left to mark.
      Status run = Prepare(kMarkSent)
                       .BindInt(m.attempts)
                       .BindInt(m.sent_at)
                       .BindInt(m.id)
                       .Run();
      if (!run.ok()) return run;
    }
    return tx.Commit();
  });
  if (busy && wait == Wait::kIfFree) return Status::Ok();  // a later fold
  if (!s.ok()) return s;  // the journal keeps them: a later fold, or the next holder
  journaled_.clear();
  journaled_to_.clear();
  next_fold_try_ = 0;
  // A crash before this folds the same marks again, which changes nothing.
  return journal_->Clear();
}

std::vector<int64_t> SqliteStore::NotJournaled(std::vector<int64_t> ids, int limit) const {
  if (!journaled_.empty()) {
    std::unordered_set<int64_t> sent;
    for (const SentMark& m : journaled_) sent.insert(m.id);
    std::erase_if(ids, [&](int64_t id) { return sent.count(id) > 0; });
  }
  if (ids.size() > static_cast<size_t>(limit)) ids.resize(static_cast<size_t>(limit));
  return ids;
}

int SqliteStore::JournaledSince(const std::string& recipient, int64_t since) const {
  auto after = [since](int64_t sent_at) { return sent_at >= since; };
  if (recipient.empty()) {
    return static_cast<int>(std::count_if(journaled_.begin(), journaled_.end(),
                                          [&](const SentMark& m) { return after(m.sent_at); }));
  }
  auto it = journaled_to_.find(LowerAscii(recipient));
  if (it == journaled_to_.end()) return 0;
  return static_cast<int>(std::count_if(it->second.begin(), it->second.end(), after));
}

}  // namespace mailreqd
