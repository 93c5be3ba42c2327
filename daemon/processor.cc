#include "daemon/processor.h"

#include <algorithm>
#include <map>
#include <random>

#include "daemon/identity.h"
#include "daemon/log.h"
#include "daemon/reply_mail.h"
#include "daemon/sha256.h"

namespace mailreqd {
namespace {

constexpr size_t kChunkMessages = 500;          // one FETCH, one transaction, few MOVEs
constexpr uint64_t kChunkBytes = 32ull << 20;   // bounds memory whatever the mailbox holds

std::vector<std::vector<uint32_t>> Chunks(const std::vector<PendingMessage>& pending) {
  std::vector<std::vector<uint32_t>> out;
  uint64_t bytes = 0;
  for (const auto& p : pending) {
    if (out.empty() || out.back().size() >= kChunkMessages || bytes + p.size > kChunkBytes) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(p.uid);
    bytes += p.size;
  }
  return out;
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

int64_t Backoff(int attempts, int max_delay_s) {
  // Exponential from 30 s, capped, with jitter so that many replies don't retry in step.
  int64_t base = std::min<int64_t>(int64_t{30} << std::min(attempts, 10), 3600);
  base = std::min<int64_t>(base, max_delay_s);
  static thread_local std::mt19937 rng{std::random_device{}()};
  return base / 2 + std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(base / 2, 1))(rng);
}

}  // namespace

std::string RequestKey(const Message& msg, std::string_view raw) {
  // The sender is part of the key so that a forger reusing someone's Message-ID cannot
  // make us skip that person's mail as "already recorded".
  if (!msg.message_id.empty()) return "mid:" + msg.message_id + " " + NormalizeAddress(msg.from.addr);
  return "sha256:" + Sha256Hex(raw);
}

Processor::Processor(Mailbox& mailbox, Store& store, Sender& sender, Clock& clock,
                     const Config& config, const TemplateSet& templates)
    : mailbox_(mailbox),
      store_(store),
      sender_(sender),
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
  auto pending = mailbox_.Pending();
  if (!pending.ok()) return pending.status();
  for (const auto& chunk : Chunks(*pending)) {
    if (stop && *stop) break;
    auto raws = mailbox_.Fetch(chunk);
    if (!raws.ok()) return raws.status();
    std::map<Folder, std::vector<uint32_t>> moves;
    for (const auto& raw : *raws) {
      auto handled = Handle(raw);
      if (!handled.ok()) return handled.status();  // transient: the mail stays, retried
      moves[handled->folder].push_back(raw.uid);
      stats.messages++;
      stats.recorded += handled->recorded;
      stats.bytes += raw.bytes.size();
    }
    for (const auto& [folder, uids] : moves) {
      Status s = mailbox_.Move(uids, FolderName(folder));
      if (!s.ok()) return s;
    }
  }
  return stats;
}

Result<Processor::Handled> Processor::Handle(const RawMessage& raw) {
  auto parsed = ParseMessage(raw.bytes);
  Message msg = parsed.ok() ? std::move(*parsed) : Message{};
  std::string key = RequestKey(msg, raw.bytes);
  auto existing = store_.FindRequest(key);
  if (!existing.ok()) return existing.status();
  if (*existing) {
    Folder f = (*existing)->folder == config_.mailbox.processed_folder ? Folder::kProcessed
               : (*existing)->folder == config_.mailbox.quarantine_folder ? Folder::kQuarantine
                                                                          : Folder::kReview;
    return Handled{f, false};
  }
  Request req = parsed.ok() ? Classify(msg, classify_config_) : Request{};
  Decision d;
  if (!parsed.ok()) {
    d.outcome = "unparseable";
    d.detail = parsed.status().message();
    d.folder = Folder::kReview;
    d.needs_human = true;
  } else {
    auto decided = decider_.Decide({msg, req, raw.arrived});
    if (!decided.ok() && decided.status().transient()) return decided.status();
    d = decided.ok() ? std::move(*decided) : ForHumanAfterError(decided.status());
  }
  auto replies = Render(d, msg);
  if (!replies.ok() && replies.status().transient()) return replies.status();
  if (!replies.ok()) {
    // A reply we can never build (say, a registered address that is not an address)
    // must not block the queue: nothing changes and a human gets the mail.
    d = ForHumanAfterError(replies.status());
    replies = std::vector<OutboxRow>{};
  }

  Change change;
  RequestRecord& r = change.request;
  r.key = key;
  r.message_id = msg.message_id;
  r.arrived = raw.arrived;
  r.sender = msg.from.addr;
  r.kind = KindName(req.kind);
  r.username = d.username.empty() ? req.username.value_or("") : d.username;
  r.outcome = d.outcome;
  r.detail = d.detail;
  r.folder = FolderName(d.folder);
  if (d.needs_human) {
    if (auto local = LocalDateOf(raw.arrived, config_.timezone)) r.due_on = StatutoryDueDate(*local);
  }
  change.subscription_update = d.subscription_update;
  change.customer_update = d.customer_update;
  change.audit = d.audit;
  change.replies = std::move(*replies);
  change.new_tokens = d.new_tokens;
  change.use_token_hash = d.use_token_hash;
  change.suppress_email = d.suppress_email;
  Status s = store_.Commit(change);
  if (!s.ok()) return s;

  LogFields f = {{"uid", std::to_string(raw.uid)},
                 {"msgid", msg.message_id},
                 {"from", MaskAddress(msg.from.addr)},
                 {"kind", r.kind},
                 {"user", MaskName(r.username)},
                 {"outcome", d.outcome},
                 {"detail", d.detail},
                 {"folder", r.folder}};
  for (const auto& row : change.replies) f.push_back({"reply", row.message_id});
  Log(LogLevel::kInfo, "message", f);
  return Handled{d.folder, true};
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

Result<SendStats> Processor::SendDue(const volatile bool* stop, int max_delay_s, bool give_up) {
  SendStats stats;
  for (;;) {
    auto due = store_.DueReplies(clock_.Now(), 100);
    if (!due.ok()) return due.status();
    if (due->empty()) return stats;
    for (auto& row : *due) {
      if (stop && *stop) return stats;
      SendOne(row, max_delay_s, give_up, stats);
    }
    if (stats.retry > 0) return stats;  // the server is unwell: come back later
  }
}

void Processor::SendOne(OutboxRow& row, int max_delay_s, bool give_up, SendStats& stats) {
  Status s = sender_.Send(config_.smtp.from_addr, row.recipient, row.raw);
  row.attempts++;
  if (s.ok()) {
    row.status = "sent";
    row.last_error.clear();
    stats.sent++;
  } else if (s.transient() && (!give_up || row.attempts < config_.smtp.max_attempts)) {
    row.next_attempt_at = clock_.Now() + Backoff(row.attempts, max_delay_s);
    row.last_error = s.message();
    stats.retry++;
    Log(LogLevel::kWarning, "reply-deferred", {{"reply", row.message_id},
                                               {"attempt", std::to_string(row.attempts)},
                                               {"error", s.message()}});
  } else {
    row.status = "failed";
    row.last_error = s.message();
    stats.failed++;
    Log(LogLevel::kError, "reply-failed", {{"reply", row.message_id},
                                           {"to", MaskAddress(row.recipient)},
                                           {"error", s.message()}});
  }
  Status m = store_.MarkReply(row);
  if (!m.ok()) {
    Log(LogLevel::kError, "outbox-update-failed", {{"reply", row.message_id}, {"error", m.message()}});
  }
}

}  // namespace mailreqd
