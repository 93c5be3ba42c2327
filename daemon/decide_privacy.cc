// The privacy requests of the Personal Data (Privacy) Ordinance: access, correction,
// questions about the policy, and opting out of direct marketing.
#include <algorithm>
#include <cstring>

#include "daemon/decide.h"
#include "daemon/log.h"
#include "daemon/reply_mail.h"

namespace mailreqd {
namespace {

std::string Line(const std::string& label, const std::string& value) {
  return label + ": " + (value.empty() ? "-" : value) + "\n";
}

bool ValidPhone(const std::string& v) {
  // Digits and + - space ( ) only, with at least a few digits.
  int digits = 0;
  for (unsigned char c : v) {
    if (std::isdigit(c)) {
      ++digits;
    } else if (!std::strchr("+- ()", c)) {
      return false;
    }
  }
  return digits >= 3 && v.size() <= 40;
}

// Why `value` cannot be stored in `field`, or "" when it can.
std::string Refusal(const std::string& field, const std::string& value) {
  if (field == "telephone" || field == "fax") {
    return ValidPhone(value) ? "" : "may hold only digits and + - ( ) and spaces";
  }
  if (field == "email") return IsValidAddress(value) ? "" : "is not an email address";
  if (field == "postal_address" || field == "name") {
    bool blank = std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isspace(c); });
    return blank ? "must not be empty" : value.size() > 500 ? "is too long" : "";
  }
  return "cannot be changed by mail";
}

std::string* FieldOf(Customer& c, const std::string& field) {
  if (field == "postal_address") return &c.postal_address;
  if (field == "telephone") return &c.telephone;
  if (field == "fax") return &c.fax;
  if (field == "name") return &c.name;
  return nullptr;
}

}  // namespace

Result<Decision> Decider::Access(const Incoming& in, const PendingAction& a, const Customer& account) {
  auto subs = store_.Subscriptions(account.username);
  if (!subs.ok()) return subs.status();
  Date today = LocalDate(in.arrived);
  // What we hold, and nothing else: this system keeps no password or card data.
  std::string data = Line("Username", account.username) + Line("Name", account.name) +
                     Line("Email", account.email) + Line("Postal address", account.postal_address) +
                     Line("Telephone", account.telephone) + Line("Fax", account.fax) +
                     Line("Marketing mail", account.marketing_opt_in ? "yes" : "no");
  for (const auto& s : *subs) {
    data += "Subscription: " + s.service + " (" + PeriodName(s.period) + "), since " +
            IsoDate(s.anchor) + ", " + EffectiveStatus(s, today) +
            (s.ends_on ? ", ends " + IsoDate(*s.ends_on) : "") + "\n";
  }
  auto requests = store_.RequestsOf(account.username);
  if (!requests.ok()) return requests.status();
  for (const auto& r : *requests) {
    auto day = LocalDate(r.arrived);
    data += "Request received " + IsoDate(day) + ": " + r.kind + " (" + r.outcome + ")\n";
  }
  Decision d;
  d.username = account.username;
  d.outcome = "access_sent";
  d.detail = "personal data sent to the registered address";
  d.replies.push_back(Reply("access_data", in, a, account));
  d.replies.back().vars["data"] = data;
  return d;
}

Decision Decider::Correction(const Incoming& in, const PendingAction& a, const Customer& account) {
  if (a.fields.empty()) return ForHuman("review", "correction without fields");
  std::string reasons, changes;
  for (const auto& [field, value] : a.fields) {
    std::string why = Refusal(field, value);
    if (!why.empty()) reasons += field + " " + why + "\n";
  }
  Decision d;
  d.username = account.username;
  if (!reasons.empty()) {  // all or nothing: a half-applied correction surprises people
    d.outcome = "correction_refused";
    d.detail = "invalid fields";
    d.replies.push_back(Reply("correction_refused", in, a, account));
    d.replies.back().vars["reasons"] = reasons;
    return d;
  }
  Customer updated = account;
  for (const auto& [field, value] : a.fields) {
    std::string* slot = FieldOf(updated, field);
    if (!slot || *slot == value) continue;
    d.audit.push_back({in.msg.from.addr, "customer:" + account.username, field, *slot, value});
    changes += field + ": " + (slot->empty() ? "-" : *slot) + " -> " + value + "\n";
    *slot = value;
  }
  if (!d.audit.empty()) d.customer_update = updated;
  d.outcome = "corrected";
  d.detail = std::to_string(d.audit.size()) + " fields changed";
  auto email = a.fields.find("email");
  if (email != a.fields.end() && NormalizeAddress(email->second) != NormalizeAddress(account.email)) {
    // A new address is confirmed from that address before it replaces the old one,
    // and the old one is told.
    PendingAction change = a;
    change.new_email = email->second;
    std::string secret;
    d.new_tokens.push_back(MakeToken(kPurposeEmailChange, account, change, in.arrived, secret));
    ReplyPlan confirm = Reply("email_change_confirm", in, a, account);
    confirm.to = email->second;
    confirm.to_name = "";
    confirm.vars["new_email"] = email->second;
    confirm.vars["token"] = secret;
    confirm.vars["expires_date"] = IsoDate(LocalDate(d.new_tokens.back().expires_at));
    d.replies.push_back(std::move(confirm));
    ReplyPlan notice = Reply("email_change_notice", in, a, account);
    notice.vars["new_email_masked"] = MaskAddress(email->second);
    d.replies.push_back(std::move(notice));
    changes += "email: " + account.email + " -> " + email->second + " (once confirmed from " +
               "the new address)\n";
    d.detail += ", email change pending";
  }
  d.replies.insert(d.replies.begin(), Reply("correction_done", in, a, account));
  d.replies.front().vars["changes"] = changes;
  return d;
}

Decision Decider::Policy(const Incoming& in) {
  Decision d;
  d.outcome = "policy_sent";
  d.detail = "policy answer";
  if (IsValidAddress(in.msg.from.addr)) d.replies.push_back(ToSender("policy_answer", in));
  return d;
}

Result<Decision> Decider::MarketingOptOut(const Incoming& in) {
  // Stopping mail to an address is safe to do for whoever writes from it: the sender's
  // own address is what we act on, never the account a username names.
  std::string from = NormalizeAddress(in.msg.from.addr);
  Decision d;
  d.outcome = "marketing_optout";
  if (from.empty()) return ForHuman("review", "marketing opt-out without a sender address");
  auto accounts = store_.CustomersByEmail(from);
  if (!accounts.ok()) return accounts.status();
  if (!accounts->empty()) {
    Customer c = accounts->front();
    d.username = c.username;
    if (c.marketing_opt_in) {
      d.audit.push_back({in.msg.from.addr, "customer:" + c.username, "marketing_opt_in", "true", "false"});
      c.marketing_opt_in = false;
      d.customer_update = c;
    }
    d.detail = "account opted out";
  } else {
    d.suppress_email = from;
    d.detail = "address added to the suppression list";
  }
  d.replies.push_back(ToSender("marketing_optout", in));
  return d;
}

}  // namespace mailreqd
