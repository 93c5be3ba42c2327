// Unsubscribe: "The remainder of the current subscription period will remain active,
// with membership ending on the last day of the current subscription period."
#include "daemon/decide.h"

namespace mailreqd {
namespace {

std::string ServiceList(const std::vector<Subscription>& subs) {
  std::string out;
  for (const auto& s : subs) out += "- " + s.service + "\n";
  return out;
}

std::string PeriodWord(BillingPeriod p, Language lang) {
  if (lang == Language::kEnglish) return PeriodName(p);
  if (lang == Language::kSimplifiedChinese) return p == BillingPeriod::kMonthly ? "月付" : "年付";
  return p == BillingPeriod::kMonthly ? "月繳" : "年繳";
}

}  // namespace

Result<Decision> Decider::Unsubscribe(const Incoming& in, const PendingAction& a,
                                      const Customer& account) {
  auto subs = store_.Subscriptions(account.username);
  if (!subs.ok()) return subs.status();
  // The moment that counts is the original mail's arrival, in the configured zone: a
  // backlog after downtime must not cost the customer another period.
  Date day = LocalDate(a.arrived);
  std::vector<Subscription> live;
  for (const auto& s : *subs) {
    bool named = !a.service || s.service == *a.service;
    if (named && EffectiveStatus(s, day) != "ended") live.push_back(s);
  }
  Decision d;
  d.username = account.username;
  if (live.empty()) {
    d.outcome = "nothing_active";
    d.replies.push_back(Reply("unsubscribe_nothing_active", in, a, account));
    d.replies.back().vars["service"] = a.service.value_or("");
    return d;
  }
  if (live.size() > 1) {
    d.outcome = "which_service";
    d.replies.push_back(Reply("unsubscribe_which_service", in, a, account));
    d.replies.back().vars["services"] = ServiceList(live);
    return d;
  }
  Subscription s = live.front();
  ReplyPlan reply = Reply("unsubscribe_already", in, a, account);
  if (s.status == "cancelling" && s.ends_on) {
    d.outcome = "already_cancelling";  // the first end date stands
  } else {
    Date end = LastDayOfPeriod(s.anchor, s.period, day);
    d.audit.push_back({in.msg.from.addr, "subscription:" + std::to_string(s.id), "ends_on",
                       s.ends_on ? IsoDate(*s.ends_on) : "", IsoDate(end)});
    s.status = "cancelling";
    s.ends_on = end;
    d.subscription_update = s;
    d.outcome = "cancelled";
    reply.template_name = "unsubscribe_confirmed";
    // The confirmation offers a way back: reply KEEP with this token before the end.
    PendingAction keep = a;
    keep.subscription_id = s.id;
    keep.service = s.service;
    std::string secret;
    d.new_tokens.push_back(MakeToken(kPurposeKeep, account, keep, in.arrived, secret));
    d.new_tokens.back().expires_at = (DaysFromCivil(end) + 1) * 86400 + 86400;
    reply.vars["token"] = secret;
  }
  reply.vars["service"] = s.service;
  reply.vars["period"] = PeriodWord(s.period, a.language);
  reply.vars["end_date"] = IsoDate(*s.ends_on);
  reply.vars["end_date_long"] = LongDate(*s.ends_on);
  reply.vars["end_date_zh"] = ChineseDate(*s.ends_on);
  d.detail = s.service + " ends " + IsoDate(*s.ends_on);
  d.replies.push_back(std::move(reply));
  return d;
}

}  // namespace mailreqd
