// Replies carrying one of our tokens: confirming a request made from another address,
// KEEP after a cancellation, and confirming a new email address. A token works once,
// only before it expires, and only from the address it was sent to.
#include "daemon/decide.h"

namespace mailreqd {

Result<Decision> Decider::Confirm(const Incoming& in) {
  if (!in.request.token) return ForHuman("review", "confirmation without a token");
  std::string hash = TokenHash(*in.request.token);
  auto row = store_.FindToken(hash);
  if (!row.ok()) return row.status();
  auto invalid = [&](const std::string& why) {
    Decision d = NeutralAck(in, "token_invalid");
    if (!d.replies.empty()) d.replies.front().template_name = "token_invalid";
    d.detail = why;
    return d;
  };
  if (!*row) return invalid("unknown token");
  const TokenRow& t = **row;
  if (t.used_at) return invalid("token already used");
  if (t.expires_at < in.arrived) return invalid("token expired");
  auto action = DecodeAction(t.payload);
  auto account = store_.FindCustomer(t.username);
  if (!account.ok()) return account.status();
  if (!action || !*account) return invalid("token names no account");
  std::string from = NormalizeAddress(in.msg.from.addr);
  bool from_new = t.purpose == kPurposeEmailChange && from == NormalizeAddress(action->new_email);
  bool from_owner = t.purpose != kPurposeEmailChange && from == NormalizeAddress((*account)->email);
  if (!from_new && !from_owner) return invalid("token used from another address");

  Result<Decision> d = Status::Ok();
  if (t.purpose == kPurposeKeep) {
    if (!in.request.keep) return ForHuman("review", "reply to a cancellation without KEEP");
    d = Keep(in, *action, **account);
  } else if (t.purpose == kPurposeEmailChange) {
    d = ChangeEmail(in, *action, **account);
  } else {
    d = Act(in, *action, **account);  // as of the original mail's arrival
  }
  if (d.ok()) {
    d->use_token_hash = hash;
    d->detail = std::string(t.purpose) + ": " + d->detail;
  }
  return d;
}

Result<Decision> Decider::Keep(const Incoming& in, const PendingAction& a, const Customer& account) {
  auto subs = store_.Subscriptions(account.username);
  if (!subs.ok()) return subs.status();
  Date today = LocalDate(in.arrived);
  for (Subscription s : *subs) {
    if (s.id != a.subscription_id) continue;
    if (s.status != "cancelling" || !s.ends_on || today > *s.ends_on) break;
    Decision d;
    d.username = account.username;
    d.audit.push_back({in.msg.from.addr, "subscription:" + std::to_string(s.id), "ends_on",
                       IsoDate(*s.ends_on), ""});
    s.status = "active";
    s.ends_on.reset();
    d.subscription_update = s;
    d.outcome = "kept";
    d.detail = s.service + " continues";
    d.replies.push_back(Reply("keep_restored", in, a, account));
    d.replies.back().vars["service"] = s.service;
    return d;
  }
  return ForHuman("review", "KEEP for a subscription that is not cancelling");
}

Result<Decision> Decider::ChangeEmail(const Incoming& in, const PendingAction& a,
                                      const Customer& account) {
  Decision d;
  d.username = account.username;
  Customer updated = account;
  updated.email = a.new_email;
  d.audit.push_back({in.msg.from.addr, "customer:" + account.username, "email", account.email,
                     a.new_email});
  d.customer_update = updated;
  d.outcome = "email_changed";
  d.detail = "email confirmed from the new address";
  d.replies.push_back(Reply("correction_done", in, a, updated));
  d.replies.back().vars["changes"] = "email: " + account.email + " -> " + a.new_email + "\n";
  return d;
}

}  // namespace mailreqd
