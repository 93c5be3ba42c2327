// FakeStore: an in-memory Store for unit tests of the decisions and the processor.
// Records every committed Change; `fail_next` makes the next write fail on demand.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store.h"

namespace mailreqd {

class FakeStore : public Store {
 public:
  std::map<std::string, Customer> customers;
  std::vector<Subscription> subscriptions;
  std::map<std::string, RequestRecord> requests;  // by key
  std::map<std::string, TokenRow> tokens;         // by hash
  std::vector<OutboxRow> outbox;
  std::vector<Change> committed;
  std::map<std::string, int> attempts;
  std::optional<Status> fail_next;
  int mark_calls = 0;  // MarkReplies transactions
  int email_lookups = 0;  // CustomersByEmail calls
  int groups_ended = 0;
  std::optional<Status> fail_end_group;  // the next EndGroup(true) fails (nothing undone here)

  void AddCustomer(const Customer& c) { customers[c.username] = c; }
  Subscription& AddSubscription(const std::string& user, const std::string& service,
                                BillingPeriod p, Date anchor);

  Result<std::optional<RequestRecord>> FindRequest(const std::string& key) override;
  Result<std::optional<Customer>> FindCustomer(const std::string& username) override;
  Result<std::vector<Customer>> CustomersByEmail(const std::string& email) override;
  Result<std::vector<Subscription>> Subscriptions(const std::string& username) override;
  Result<std::vector<RequestRecord>> RequestsOf(const std::string& username) override;
  Result<std::optional<TokenRow>> FindToken(const std::string& hash) override;
  Status Commit(const Change& change) override;
  Result<std::vector<Status>> CommitEach(const std::vector<Change>& changes) override;
  Result<std::vector<OutboxRow>> DueReplies(int64_t now, int limit) override;
  Status MarkReplies(const std::vector<OutboxRow>& rows) override;
  Result<int> SentSince(const std::string& recipient, int64_t since) override;
  Result<int> Attempts(const std::string& key) override;
  Status AddAttempt(const std::vector<std::string>& keys) override;
  Status ClearAttempts(const std::vector<std::string>& keys) override;
  Status EndGroup(bool commit) override {
    ++groups_ended;
    if (!commit || !fail_end_group) return Status::Ok();
    Status s = *fail_end_group;
    fail_end_group.reset();
    return s;
  }
};

}  // namespace mailreqd
