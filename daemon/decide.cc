#include "daemon/decide.h"

#include "daemon/identity.h"

namespace mailreqd {
namespace {

Date LocalArrival(const Incoming& in, const Config& cfg) {
  auto d = LocalDateOf(in.arrived, cfg.timezone);
  return d ? *d : CivilFromDays(in.arrived / 86400);  // zone was validated at load
}

std::string ServiceList(const std::vector<Subscription>& subs) {
  std::string out;
  for (const auto& s : subs) out += "- " + s.service + "\n";
  return out;
}

}  // namespace

TemplateVars Decider::CommonVars(const Incoming& in, const Customer* account) const {
  TemplateVars v;
  v["company"] = config_.company.name;
  v["privacy_officer"] = config_.company.privacy_officer;
  v["privacy_email"] = config_.company.privacy_email;
  v["company_address"] = config_.company.postal_address;
  v["original_subject"] = in.msg.subject;
  v["original_date"] = in.msg.date;
  v["name"] = account ? account->name : in.msg.from.name;
  v["username"] = account ? account->username : in.request.username.value_or("");
  return v;
}

ReplyPlan Decider::Reply(const std::string& tmpl, const Incoming& in, const Customer& to) const {
  ReplyPlan r;
  r.template_name = tmpl;
  r.to = to.email;
  r.to_name = to.name;
  r.language = in.request.language;
  r.vars = CommonVars(in, &to);
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

Result<Decision> Decider::Decide(const Incoming& in) {
  const Request& req = in.request;
  if (req.no_reply) {
    Decision d;
    d.outcome = "no_reply";
    d.detail = *req.no_reply;
    d.folder = Folder::kReview;
    return d;
  }
  if (req.kind != RequestKind::kUnsubscribe) return ForHuman("review", KindName(req.kind));

  std::optional<Customer> by_username;
  if (req.username) {
    auto c = store_.FindCustomer(*req.username);
    if (!c.ok()) return c.status();
    by_username = *c;
  }
  auto by_sender = store_.CustomersByEmail(NormalizeAddress(in.msg.from.addr));
  if (!by_sender.ok()) return by_sender.status();
  Identity id = ResolveIdentity(in.msg.from.addr, req.username, by_username, *by_sender);
  if (id.verification != Verification::kVerified) {
    return ForHuman("unverified", id.account ? "sender is not the registered address"
                                             : "no matching account");
  }
  return Unsubscribe(in, *id.account);
}

Result<Decision> Decider::Unsubscribe(const Incoming& in, const Customer& account) {
  auto subs = store_.Subscriptions(account.username);
  if (!subs.ok()) return subs.status();
  Date today = LocalArrival(in, config_);
  std::vector<Subscription> live;
  for (const auto& s : *subs) {
    bool named = !in.request.service || s.service == *in.request.service;
    if (named && EffectiveStatus(s, today) != "ended") live.push_back(s);
  }
  Decision d;
  d.username = account.username;
  if (live.empty()) {
    d.outcome = "nothing_active";
    d.replies.push_back(Reply("unsubscribe_nothing_active", in, account));
    d.replies.back().vars["service"] = in.request.service.value_or("");
    return d;
  }
  if (live.size() > 1) {
    d.outcome = "which_service";
    d.replies.push_back(Reply("unsubscribe_which_service", in, account));
    d.replies.back().vars["services"] = ServiceList(live);
    return d;
  }
  Subscription s = live.front();
  ReplyPlan reply = Reply("unsubscribe_already", in, account);
  reply.vars["service"] = s.service;
  reply.vars["period"] = PeriodName(s.period);
  if (s.status == "cancelling" && s.ends_on) {
    d.outcome = "already_cancelling";  // the first end date stands
  } else {
    Date end = LastDayOfPeriod(s.anchor, s.period, today);
    d.audit.push_back({in.msg.from.addr, "subscription:" + std::to_string(s.id), "ends_on",
                       s.ends_on ? IsoDate(*s.ends_on) : "", IsoDate(end)});
    s.status = "cancelling";
    s.ends_on = end;
    d.subscription_update = s;
    d.outcome = "cancelled";
    reply.template_name = "unsubscribe_confirmed";
    reply.vars["token"] = "";
  }
  reply.vars["end_date"] = IsoDate(*s.ends_on);
  reply.vars["end_date_long"] = LongDate(*s.ends_on);
  reply.vars["end_date_zh"] = std::to_string(s.ends_on->year) + "年" +
                              std::to_string(s.ends_on->month) + "月" +
                              std::to_string(s.ends_on->day) + "日";
  d.detail = s.service + " ends " + IsoDate(*s.ends_on);
  d.replies.push_back(std::move(reply));
  return d;
}

}  // namespace mailreqd
