#include "daemon/processor.h"

#include <algorithm>
#include <cstdlib>

#include "daemon/identity.h"
#include "daemon/log.h"
#include "daemon/reply_mail.h"
#include "daemon/sha256.h"

namespace mailreqd {
namespace {

constexpr size_t kChunkMessages = 250;         // one FETCH, one transaction
constexpr size_t kListWindow = 5000;           // UIDs and sizes held at once (16 bytes each)
// A chunk is held whole while it is decided: its bytes, more than its count, set the
// peak memory, and a cap keeps that peak the same whether the inbox holds a few big
// mails or many small ones (one bigger mail still goes alone). At 500 mails and 4 MB
// a 10,000-mail drain peaked at 35 MB; at 250 and 2 MB, 28 MB, as fast, and the
// chunk's dirty pages crowd fewer others out of SQLite's cache (preads -11%).
constexpr uint64_t kChunkBytes = 2ull << 20;

// The end of the chunk of `pending` that starts at `begin`.
size_t ChunkEnd(const std::vector<PendingMessage>& pending, size_t begin) {
  size_t end = begin;
  uint64_t bytes = 0;
  while (end < pending.size() && end - begin < kChunkMessages &&
         (end == begin || bytes + pending[end].size <= kChunkBytes)) {
    bytes += pending[end].size;
    ++end;
  }
  return end;
}

std::string AttemptKey(const PendingMessage& m) {
  return std::to_string(m.uidvalidity) + ":" + std::to_string(m.uid);
}

std::string DomainOf(const std::string& addr) {
  auto at = addr.rfind('@');
  return at == std::string::npos ? "mailreqd.invalid" : addr.substr(at + 1);
}

Decision ForHumanAfterError(const Status& s) {
  Decision d;
  d.outcome = "error";
  d.detail = s.message();
  d.folder = Folder::kReview;
  d.needs_human = true;
  return d;
}

Folder FolderOf(const std::string& kind) {
  if (kind == "processed") return Folder::kProcessed;
  if (kind == "quarantine") return Folder::kQuarantine;
  return Folder::kReview;
}

// Test hook for the poison-message test: abort on a marked message, as a crash would.
void MaybeAbortForTest(const std::string& raw) {
  static const char* marker = std::getenv("MAILREQD_TEST_ABORT_MARKER");
  if (marker && *marker && raw.find(marker) != std::string::npos) std::abort();
}

}  // namespace

const char* FolderKind(Folder f) {
  switch (f) {
    case Folder::kProcessed: return "processed";
    case Folder::kReview: return "review";
    case Folder::kQuarantine: return "quarantine";
  }
  return "review";
}

std::string RequestKey(const Message& msg, std::string_view raw) {
  // The sender is part of the key so that a forger reusing someone's Message-ID cannot
  // make us skip that person's mail as "already recorded".
  if (!msg.message_id.empty()) return "mid:" + msg.message_id + " " + NormalizeAddress(msg.from.addr);
  return "sha256:" + Sha256Hex(raw);
}

Processor::Processor(Mailbox& mailbox, Store& store, Clock& clock,
                     const Config& config, const TemplateSet& templates)
    : mailbox_(mailbox),
      store_(store),
      clock_(clock),
      config_(config),
      templates_(templates),
      decider_(store, config),
      classify_config_(config.ForClassify()) {}

const std::string& Processor::FolderName(Folder f) const {
  switch (f) {
    case Folder::kProcessed: return config_.mailbox.processed_folder;
    case Folder::kReview: return config_.mailbox.review_folder;
    case Folder::kQuarantine: return config_.mailbox.quarantine_folder;
  }
  return config_.mailbox.review_folder;
}

Result<DrainStats> Processor::Drain(const volatile bool* stop) {
  DrainStats stats;
  uint32_t after = 0;
  for (;;) {
    auto pending = mailbox_.PendingAfter(after, kListWindow);
    if (!pending.ok()) return pending.status();
    for (size_t begin = 0, end = 0; begin < pending->size(); begin = end) {
      if (stop && *stop) return stats;
      end = ChunkEnd(*pending, begin);
      next_chunk_.clear();
      for (size_t i = end; i < ChunkEnd(*pending, end); ++i) next_chunk_.push_back((*pending)[i].uid);
      Status s = DrainChunk(std::span(*pending).subspan(begin, end - begin), stats);
      if (!s.ok()) return s;
    }
    if (pending->size() < kListWindow) return stats;
    after = pending->back().uid;
  }
}

Status Processor::DrainChunk(std::span<const PendingMessage> chunk, DrainStats& stats) {
  // Messages tried before without finishing (the daemon died on them or beside them)
  // go one at a time, so that one poison message cannot take its neighbours down.
  std::vector<uint32_t> fresh;
  std::vector<std::string> fresh_keys;
  std::vector<PendingMessage> suspects;
  auto attempts = AttemptsOf(chunk);
  if (!attempts.ok()) return attempts.status();
  for (size_t i = 0; i < chunk.size(); ++i) {
    const PendingMessage& m = chunk[i];
    const int tries = (*attempts)[i];
    if (tries == 0) {
      fresh.push_back(m.uid);
      fresh_keys.push_back(AttemptKey(m));
    } else if (tries >= kMaxAttempts) {
      Status s = Quarantine(m, stats);
      if (!s.ok()) return s;
    } else {
      suspects.push_back(m);
    }
  }
  // Only a crash counts as an attempt: once ProcessMessages returns, even with an error
  // (IMAP gone, folder missing, SQLITE_BUSY), these mails did not kill us, so the count
  // is cleared; otherwise three transient errors would quarantine innocent mail.
  // A suspect's lone Fetch would come between this chunk and the next: no hint then.
  if (!suspects.empty()) next_chunk_.clear();
  Status s = store_.AddAttempt(fresh_keys);
  if (s.ok()) s = ClearedAfter(ProcessMessages(fresh, stats), fresh_keys);
  for (const auto& m : suspects) {
    if (!s.ok()) break;
    s = store_.AddAttempt({AttemptKey(m)});
    if (s.ok()) s = ClearedAfter(ProcessMessages({m.uid}, stats), {AttemptKey(m)});
  }
  return s;
}

Result<std::vector<int>> Processor::AttemptsOf(std::span<const PendingMessage> chunk) {
  ReadSnapshot snapshot(store_);
  std::vector<int> out;
  out.reserve(chunk.size());
  for (const auto& m : chunk) {
    auto tries = store_.Attempts(AttemptKey(m));
    if (!tries.ok()) return tries.status();
    out.push_back(*tries);
  }
  return out;
}

Status Processor::ClearedAfter(Status processed, const std::vector<std::string>& keys) {
  Status cleared = store_.ClearAttempts(keys);
  return processed.ok() ? cleared : processed;
}

Status Processor::Quarantine(const PendingMessage& m, DrainStats& stats) {
  Change c;
  c.request.key = "quarantine:" + AttemptKey(m);
  c.request.arrived = clock_.Now();
  c.request.kind = "unknown";
  c.request.outcome = "quarantined";
  c.request.detail = "processing failed " + std::to_string(kMaxAttempts) + " times";
  c.request.folder = FolderKind(Folder::kQuarantine);
  if (auto local = LocalDateOf(c.request.arrived, config_.timezone)) {
    c.request.due_on = StatutoryDueDate(*local);
  }
  Status s = store_.Commit(c);
  if (!s.ok() && s.transient()) return s;  // a duplicate means it was recorded already
  s = mailbox_.Move({m.uid}, FolderName(Folder::kQuarantine));
  if (s.ok()) s = store_.ClearAttempts({AttemptKey(m)});
  if (!s.ok()) return s;
  stats.quarantined++;
  Log(LogLevel::kError, "quarantined", {{"uid", std::to_string(m.uid)},
                                        {"attempts", std::to_string(kMaxAttempts)},
                                        {"folder", FolderName(Folder::kQuarantine)}});
  return Status::Ok();
}

bool Processor::Batch::MustWait(const std::string& key, const std::string& username,
                                bool confirm) const {
  return all_wait || (confirm && !items.empty()) || taken.Has(key, username) ||
         waiting.Has(key, username);
}

void Processor::Batch::Wait(const std::string& key, const std::string& username, bool confirm) {
  waiting.keys.insert(key);
  if (!username.empty()) waiting.usernames.insert(username);
  all_wait = all_wait || confirm;
}

Status Processor::ProcessMessages(const std::vector<uint32_t>& uids, DrainStats& stats) {
  if (uids.empty()) return Status::Ok();
  auto raws = mailbox_.Fetch(uids);
  if (!raws.ok()) return raws.status();
  // The server reads the next chunk while this one is decided and recorded.
  if (!next_chunk_.empty()) mailbox_.Prefetch(std::exchange(next_chunk_, {}));
  const std::vector<ReadMail> mails = ReadAll(*raws, classify_config_);
  std::vector<const ReadMail*> todo;
  for (const auto& mail : mails) todo.push_back(&mail);
  Moves moves;
  DrainStats chunk;
  LogBatch logs;  // written once the chunk is durable: a line says what was recorded
  // The passes of a chunk are one durable transaction: one fsync, and the sender sees
  // the chunk's replies only once they would survive a power cut.
  Status s = store_.BeginGroup();
  // Each pass takes at least its first mail, which nothing can block.
  while (s.ok() && !todo.empty()) s = ProcessPass(todo, moves, chunk, logs);
  Status ended = store_.EndGroup(s.ok());
  if (s.ok()) s = ended;
  if (!s.ok()) {
    logs.Discard();  // nothing of the chunk is recorded: its mail stays, tried again
    return s;
  }
  stats.messages += chunk.messages;
  stats.recorded += chunk.recorded;
  stats.bytes += chunk.bytes;
  logs.Flush();
  if (chunk.recorded > 0 && on_recorded_) on_recorded_();
  // The chunk's mail moves once everything in it is recorded: one MOVE per folder
  // rather than per pass (a crash before this only leaves recorded mail to move again).
  for (const auto& [folder, uids] : moves) {
    if (!s.ok()) break;
    s = mailbox_.Move(uids, FolderName(folder));
  }
  return s;
}

Status Processor::ProcessPass(std::vector<const ReadMail*>& todo, Moves& moves,
                              DrainStats& stats, LogBatch& logs) {
  Batch batch;
  std::vector<const ReadMail*> later;
  {
    ReadSnapshot snapshot(store_);  // ends before Flush writes
    for (const ReadMail* mail : todo) {
      MaybeAbortForTest(mail->raw->bytes);
      bool wait = false;
      auto prepared = Prepare(*mail, batch, wait);
      if (wait) {
        later.push_back(mail);
        continue;
      }
      if (!prepared.ok()) return prepared.status();  // transient: the mail stays, retried
      stats.messages++;
      stats.bytes += mail->raw->bytes.size();
      batch.taken.keys.insert(prepared->key);
      if (!prepared->username.empty()) batch.taken.usernames.insert(prepared->username);
      batch.items.push_back(std::move(*prepared));
    }
  }
  todo = std::move(later);
  return Flush(batch, moves, stats, logs);
}

Result<Processor::Prepared> Processor::Prepare(const ReadMail& mail, Batch& batch,
                                               bool& wait) {
  const RawMessage& raw = *mail.raw;
  const Message& msg = mail.msg;
  const Request& req = mail.request;
  const std::string& key = mail.key;
  std::string named = req.username.value_or("");
  const bool confirm = req.kind == RequestKind::kConfirm;
  wait = batch.MustWait(key, named, confirm);
  if (wait) {
    batch.Wait(key, named, confirm);
    return Prepared{};
  }
  Prepared p;
  p.uid = raw.uid;
  p.key = key;
  p.username = named;
  auto existing = store_.FindRequest(key);
  if (!existing.ok()) return existing.status();
  if (*existing) {
    p.folder = FolderOf((*existing)->folder);
    return p;
  }
  Decision d;
  if (!mail.parsed.ok()) {
    d = ForHumanAfterError(mail.parsed);
    d.outcome = "unparseable";
  } else {
    auto decided = decider_.Decide({msg, req, raw.arrived});
    if (!decided.ok() && decided.status().transient()) return decided.status();
    d = decided.ok() ? std::move(*decided) : ForHumanAfterError(decided.status());
  }
  if (!d.username.empty() && d.username != named && batch.MustWait(key, d.username, false)) {
    wait = true;  // found by sender address: same rule
    batch.Wait(key, named, confirm);
    batch.Wait(key, d.username, confirm);
    return Prepared{};
  }
  auto replies = Render(d, msg);
  if (!replies.ok() && replies.status().transient()) return replies.status();
  if (!replies.ok()) {
    // A reply we can never build (say, a registered address that is not an address)
    // must not block the queue: nothing changes and a human gets the mail.
    d = ForHumanAfterError(replies.status());
    replies = std::vector<OutboxRow>{};
  }
  Change c;
  RequestRecord& r = c.request;
  r.key = key;
  r.message_id = msg.message_id;
  r.arrived = raw.arrived;
  r.sender = msg.from.addr;
  r.kind = KindName(req.kind);
  r.username = d.username.empty() ? named : d.username;
  r.outcome = d.outcome;
  r.detail = d.detail;
  r.folder = FolderKind(d.folder);
  if (d.needs_human) {
    if (auto local = LocalDateOf(raw.arrived, config_.timezone)) r.due_on = StatutoryDueDate(*local);
  }
  c.subscription_update = d.subscription_update;
  c.customer_update = d.customer_update;
  c.audit = d.audit;
  c.replies = std::move(*replies);
  c.new_tokens = d.new_tokens;
  c.use_token_hash = d.use_token_hash;
  c.suppress_email = d.suppress_email;
  p.folder = d.folder;
  if (!d.username.empty()) p.username = d.username;
  p.log = {{"uid", std::to_string(raw.uid)}, {"msgid", msg.message_id},
           {"from", MaskAddress(msg.from.addr)}, {"kind", r.kind},
           {"user", MaskName(r.username)}, {"outcome", d.outcome},
           {"detail", d.detail}, {"folder", FolderName(d.folder)}};
  for (const auto& row : c.replies) p.log.push_back({"reply", row.message_id});
  p.change = std::move(c);
  return p;
}

Status Processor::Flush(Batch& batch, Moves& moves, DrainStats& stats, LogBatch& logs) {
  std::vector<Change> changes;
  std::vector<Prepared*> owners;
  for (auto& item : batch.items) {
    if (!item.change) continue;
    changes.push_back(std::move(*item.change));  // only its log and folder are used after
    owners.push_back(&item);
  }
  auto results = store_.CommitEach(changes);
  if (!results.ok()) return results.status();
  for (size_t i = 0; i < owners.size(); ++i) {
    const Status& s = (*results)[i];
    Prepared& p = *owners[i];
    if (s.ok()) {
      stats.recorded++;
      logs.Add(LogLevel::kInfo, "message", p.log);
      continue;
    }
    // Refused by the store (e.g. another process recorded it first, or a token used
    // meanwhile): the mail goes to a human rather than vanish unrecorded.
    logs.Add(LogLevel::kWarning, "message-not-recorded", {{"uid", std::to_string(p.uid)},
                                                          {"error", s.message()}});
    p.folder = Folder::kReview;
  }
  for (const auto& item : batch.items) moves[item.folder].push_back(item.uid);
  return Status::Ok();
}

Result<std::vector<OutboxRow>> Processor::Render(const Decision& d, const Message& msg) {
  std::vector<OutboxRow> rows;
  for (const auto& plan : d.replies) {
    // Every variable the template may use is defined; a flow sets what it knows.
    TemplateVars vars;
    for (const auto& name : TemplateSet::Variables(plan.template_name)) vars[name] = "";
    for (const auto& [k, v] : plan.vars) vars[k] = v;
    auto text = templates_.Render(plan.template_name, plan.language, vars);
    if (!text.ok()) return text.status();
    ReplyHeaders h;
    h.from = config_.smtp.from;
    h.to = plan.to;
    h.to_name = plan.to_name;
    h.subject = text->subject.empty() ? "Re: " + msg.subject : text->subject;
    h.message_id = NewMessageId(DomainOf(config_.smtp.from_addr));
    h.in_reply_to = msg.message_id;
    h.references = msg.references;
    if (!msg.message_id.empty()) h.references.push_back(msg.message_id);
    h.date = clock_.Now();
    OutboxRow row;
    row.message_id = h.message_id;
    row.recipient = plan.to;
    row.raw = BuildReplyMail(h, text->body);
    if (row.raw.empty()) return ReplyHeadersError(h);
    row.next_attempt_at = h.date;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mailreqd
