// Deciding what one request does: which account, what changes, who gets which reply.
// Reads the store (never writes it): the processor commits the Decision in one
// transaction with the request row and the replies, so a crash leaves all or nothing.
//
// Who may ask (see identity.h): a request from the account's registered address acts at
// once. Anything else changes nothing: the registered address gets a confirmation
// request with a single-use token, the sender a neutral acknowledgement that does not
// reveal whether the account exists. A reply carrying the token, from the registered
// address, carries the original request out as of the original mail's arrival.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/identity.h"
#include "daemon/store.h"
#include "daemon/token.h"
#include "parsers/classify.h"
#include "parsers/message.h"
#include "templates/templates.h"

namespace mailreqd {

enum class Folder { kProcessed, kReview, kQuarantine };

struct ReplyPlan {
  std::string template_name;
  std::string to;  // recipient address
  std::string to_name;
  Language language = Language::kEnglish;
  TemplateVars vars;
};

struct Decision {
  std::string outcome;  // short, stable: "cancelled", "already_cancelling", "review", ...
  std::string detail;   // for the log line and the requests table, no personal data
  Folder folder = Folder::kProcessed;
  bool needs_human = false;  // recorded with a due date
  std::string username;      // the account acted on or named
  std::optional<Subscription> subscription_update;
  std::optional<Customer> customer_update;
  std::vector<AuditEntry> audit;
  std::vector<ReplyPlan> replies;
  std::vector<TokenRow> new_tokens;
  std::optional<std::string> use_token_hash;
  std::optional<std::string> suppress_email;
};

struct Incoming {
  const Message& msg;
  const Request& request;
  int64_t arrived = 0;  // unix seconds
};

class Decider {
 public:
  Decider(Store& store, const Config& config) : store_(store), config_(config) {}
  Result<Decision> Decide(const Incoming& in);

 private:
  // decide.cc: who is asking
  Result<Identity> Identify(const Incoming& in);
  Result<Decision> Act(const Incoming& in, const PendingAction& a, const Customer& account);
  Decision AskOwner(const Incoming& in, const PendingAction& a, const Customer& account);
  Decision NeutralAck(const Incoming& in, const std::string& outcome);
  // decide_confirm.cc: replies carrying one of our tokens
  Result<Decision> Confirm(const Incoming& in);
  Result<Decision> Keep(const Incoming& in, const PendingAction& a, const Customer& account);
  Result<Decision> ChangeEmail(const Incoming& in, const PendingAction& a, const Customer& account);
  // decide_unsubscribe.cc
  Result<Decision> Unsubscribe(const Incoming& in, const PendingAction& a, const Customer& account);
  // decide_privacy.cc: access, correction, policy, marketing opt-out
  Result<Decision> Access(const Incoming& in, const PendingAction& a, const Customer& account);
  Decision Correction(const Incoming& in, const PendingAction& a, const Customer& account);
  Decision Policy(const Incoming& in);
  Result<Decision> MarketingOptOut(const Incoming& in);

  static Decision ForHuman(const std::string& outcome, const std::string& detail);
  TemplateVars CommonVars(const Incoming& in, const Customer* account) const;
  ReplyPlan Reply(const std::string& tmpl, const Incoming& in, const PendingAction& a,
                  const Customer& to) const;
  // A reply to the sender as they wrote (their address and display name), with no
  // account details: for answers that must not reveal whether an account exists.
  ReplyPlan ToSender(const std::string& tmpl, const Incoming& in) const;
  TokenRow MakeToken(const std::string& purpose, const Customer& account, const PendingAction& a,
                     int64_t now, std::string& secret) const;
  Date LocalDate(int64_t unix_seconds) const;

  Store& store_;
  const Config& config_;
};

// True when an Authentication-Results header from one of `trusted` authserv-ids says
// dmarc=fail (RFC 8601 §2.2): the From domain is forged.
bool DmarcFailed(const Message& msg, const std::vector<std::string>& trusted);

// "2026年2月27日": the written-out date in Chinese replies.
std::string ChineseDate(Date d);

}  // namespace mailreqd
