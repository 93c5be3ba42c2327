// Deciding what one request does: which account, what changes, who gets which reply.
// Reads the store (never writes it): the processor commits the Decision in one
// transaction with the request row and the replies, so a crash leaves all or nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/store.h"
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
  Result<Decision> Unsubscribe(const Incoming& in, const Customer& account);
  Decision ForHuman(const std::string& outcome, const std::string& detail);
  TemplateVars CommonVars(const Incoming& in, const Customer* account) const;
  ReplyPlan Reply(const std::string& tmpl, const Incoming& in, const Customer& to) const;

  Store& store_;
  const Config& config_;
};

}  // namespace mailreqd
