#include "daemon/decide.h"

#include <algorithm>

#include "daemon/reply_mail.h"

namespace mailreqd {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// What a request summary says in the confirmation mail, in the reply's language.
std::string Summary(const PendingAction& a) {
  bool zh = a.language != Language::kEnglish;
  std::string svc = a.service.value_or("");
  switch (a.kind) {
    case RequestKind::kUnsubscribe:
      if (zh) return "取消" + svc + "訂閱";
      return svc.empty() ? "cancel your subscription" : "cancel your " + svc + " subscription";
    case RequestKind::kAccess:
      return zh ? "索取您的個人資料副本" : "send a copy of the personal data we hold about you";
    case RequestKind::kCorrection:
      return zh ? "更正您的個人資料" : "correct your personal data";
    default:
      return zh ? "處理您的要求" : "act on your request";
  }
}

bool NeedsAccount(RequestKind k) {
  return k == RequestKind::kUnsubscribe || k == RequestKind::kAccess ||
         k == RequestKind::kCorrection;
}

}  // namespace

std::string ChineseDate(Date d) {
  return std::to_string(d.year) + "年" + std::to_string(d.month) + "月" + std::to_string(d.day) +
         "日";
}

bool DmarcFailed(const Message& msg, const std::vector<std::string>& trusted) {
  for (const auto& h : msg.headers) {
    if (h.name != "authentication-results") continue;
    std::string v = Lower(h.value);
    size_t semi = v.find(';');
    std::string id = v.substr(0, semi);
    id.erase(0, id.find_first_not_of(" \t"));
    id = id.substr(0, id.find_first_of(" \t"));  // authserv-id [version]
    bool ours = std::find_if(trusted.begin(), trusted.end(),
                             [&](const std::string& t) { return Lower(t) == id; }) != trusted.end();
    // Only our own servers' verdicts count: anyone can write this header (RFC 8601 §5).
    if (ours && semi != std::string::npos && v.find("dmarc=fail", semi) != std::string::npos) {
      return true;
    }
  }
  return false;
}

Date Decider::LocalDate(int64_t t) const {
  auto d = LocalDateOf(t, config_.timezone);
  return d ? *d : CivilFromDays(t / 86400);  // the zone was validated at load
}

TemplateVars Decider::CommonVars(const Incoming& in, const Customer* account) const {
  TemplateVars v;
  v["company"] = config_.company.name;
  v["privacy_officer"] = config_.company.privacy_officer;
  v["privacy_email"] = config_.company.privacy_email;
  v["company_address"] = config_.company.postal_address;
  v["original_subject"] = in.msg.subject;
  v["original_date"] = in.msg.date;
  v["name"] = account ? account->name : "";
  v["username"] = account ? account->username : "";
  return v;
}

ReplyPlan Decider::Reply(const std::string& tmpl, const Incoming& in, const PendingAction& a,
                         const Customer& to) const {
  ReplyPlan r;
  r.template_name = tmpl;
  r.to = to.email;
  r.to_name = to.name;
  r.language = a.language;
  r.vars = CommonVars(in, &to);
  return r;
}

ReplyPlan Decider::ToSender(const std::string& tmpl, const Incoming& in) const {
  ReplyPlan r;
  r.template_name = tmpl;
  r.to = in.msg.from.addr;
  r.to_name = in.msg.from.name;  // the sender's own words, never the account's name
  r.language = in.request.language;
  r.vars = CommonVars(in, nullptr);
  return r;
}

Decision Decider::ForHuman(const std::string& outcome, const std::string& detail) {
  Decision d;
  d.outcome = outcome;
  d.detail = detail;
  d.folder = Folder::kReview;
  d.needs_human = true;
  return d;
}

TokenRow Decider::MakeToken(const std::string& purpose, const Customer& account,
                            const PendingAction& a, int64_t now, std::string& secret) const {
  secret = NewTokenSecret();
  TokenRow t;
  t.hash = TokenHash(secret);
  t.purpose = purpose;
  t.username = account.username;
  t.payload = EncodeAction(a);
  t.expires_at = now + int64_t{config_.token_ttl_days} * 86400;
  return t;
}

Result<Decision> Decider::Decide(const Incoming& in) {
  const Request& req = in.request;
  if (DmarcFailed(in.msg, config_.trusted_authserv_ids)) {
    // Forged: no change, and no mail to the forged address (no backscatter).
    return ForHuman("forged", "dmarc=fail");
  }
  if (req.no_reply) {
    Decision d;
    d.outcome = "no_reply";
    d.detail = *req.no_reply;
    d.folder = Folder::kReview;
    return d;
  }
  switch (req.kind) {
    case RequestKind::kConfirm: return Confirm(in);
    case RequestKind::kPolicy: return Policy(in);
    case RequestKind::kMarketingOptOut: return MarketingOptOut(in);
    case RequestKind::kUnknown: return ForHuman("review", "unknown request");
    default: break;
  }
  auto id = Identify(in);
  if (!id.ok()) return id.status();
  PendingAction a{req.kind, req.service, in.arrived, req.language, 0, "", req.fields};
  if (id->verification == Verification::kVerified) return Act(in, a, *id->account);
  if (id->verification == Verification::kUnverified) return AskOwner(in, a, *id->account);
  return NeedsAccount(req.kind) ? NeutralAck(in, "no_account") : ForHuman("review", "no account");
}

Result<Identity> Decider::Identify(const Incoming& in) {
  // A mail that names an account speaks for that one, found or not (ResolveIdentity):
  // the sender's own accounts are only looked up for a mail that names none. That
  // lookup, on an index of its own, was a fifth of the decision's database reads.
  std::optional<Customer> by_username;
  std::vector<Customer> by_sender;
  if (in.request.username) {
    auto c = store_.FindCustomer(*in.request.username);
    if (!c.ok()) return c.status();
    by_username = *c;
  } else if (const std::string from = NormalizeAddress(in.msg.from.addr); !from.empty()) {
    auto found = store_.CustomersByEmail(from);
    if (!found.ok()) return found.status();
    by_sender = std::move(*found);
  }
  return ResolveIdentity(in.msg.from.addr, in.request.username, by_username, by_sender);
}

Result<Decision> Decider::Act(const Incoming& in, const PendingAction& a, const Customer& account) {
  switch (a.kind) {
    case RequestKind::kUnsubscribe: return Unsubscribe(in, a, account);
    case RequestKind::kAccess: return Access(in, a, account);
    case RequestKind::kCorrection: return Correction(in, a, account);
    default: return ForHuman("review", KindName(a.kind));
  }
}

Decision Decider::AskOwner(const Incoming& in, const PendingAction& a, const Customer& account) {
  // Nothing changes. The owner is asked at the registered address; the sender learns
  // nothing they could not have guessed.
  Decision d = NeutralAck(in, "confirmation_sent");
  d.username = account.username;
  std::string secret;
  d.new_tokens.push_back(MakeToken(kPurposeConfirm, account, a, in.arrived, secret));
  ReplyPlan ask = Reply("confirm_request", in, a, account);
  ask.vars["request_summary"] = Summary(a);
  ask.vars["token"] = secret;
  ask.vars["expires_date"] = IsoDate(LocalDate(d.new_tokens.back().expires_at));
  d.replies.insert(d.replies.begin(), std::move(ask));
  return d;
}

Decision Decider::NeutralAck(const Incoming& in, const std::string& outcome) {
  Decision d;
  d.outcome = outcome;
  d.detail = KindName(in.request.kind);
  d.folder = Folder::kProcessed;
  if (IsValidAddress(in.msg.from.addr)) d.replies.push_back(ToSender("neutral_ack", in));
  return d;
}

}  // namespace mailreqd
