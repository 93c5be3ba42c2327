// --dry-run: decorators that let the whole pipeline run against the real mailbox and
// database while changing nothing. Reads pass through; writes are logged and dropped.
#pragma once

#include <set>
#include <utility>

#include "daemon/ports.h"
#include "daemon/store.h"

namespace mailreqd {

class DryRunStore : public Store {
 public:
  explicit DryRunStore(Store& real) : real_(real) {}
  Result<std::optional<RequestRecord>> FindRequest(const std::string& key) override {
    return real_.FindRequest(key);
  }
  Result<std::optional<Customer>> FindCustomer(const std::string& username) override {
    return real_.FindCustomer(username);
  }
  Result<std::vector<Customer>> CustomersByEmail(const std::string& email) override {
    return real_.CustomersByEmail(email);
  }
  Result<std::vector<Subscription>> Subscriptions(const std::string& username) override {
    return real_.Subscriptions(username);
  }
  Result<std::vector<RequestRecord>> RequestsOf(const std::string& username) override {
    return real_.RequestsOf(username);
  }
  Result<std::optional<TokenRow>> FindToken(const std::string& hash) override {
    return real_.FindToken(hash);
  }
  Status Commit(const Change& change) override;  // logs what would change
  Result<std::vector<Status>> CommitEach(const std::vector<Change>& changes) override {
    std::vector<Status> out;
    for (const auto& c : changes) out.push_back(Commit(c));
    return out;
  }
  Result<std::vector<OutboxRow>> DueReplies(int64_t, int) override {
    return std::vector<OutboxRow>{};  // nothing is sent in a dry run
  }
  Status MarkReplies(const std::vector<OutboxRow>&) override { return Status::Ok(); }
  Result<int> Attempts(const std::string& key) override { return real_.Attempts(key); }
  Result<int> SentSince(const std::string& r, int64_t since) override {
    return real_.SentSince(r, since);
  }
  Status AddAttempt(const std::vector<std::string>&) override { return Status::Ok(); }
  Status ClearAttempts(const std::vector<std::string>&) override { return Status::Ok(); }

 private:
  Store& real_;
};

// Moves nothing, but remembers what it was asked to move and leaves it out of later
// listings: a dry run that keeps running (without --once) tells once what it would do
// with a mail, not again at every look at the mailbox.
class DryRunMailbox : public Mailbox {
 public:
  explicit DryRunMailbox(Mailbox& real) : real_(real) {}
  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override {
    return real_.Fetch(uids);
  }
  void Prefetch(const std::vector<uint32_t>& uids) override { real_.Prefetch(uids); }
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override {
    return real_.WaitForMail(seconds, stop);
  }

 private:
  Mailbox& real_;
  uint32_t uidvalidity_ = 0;  // of the last listing: the UIDs Move() gets are from it
  std::set<std::pair<uint32_t, uint32_t>> moved_;  // (uidvalidity, uid) told already
};

}  // namespace mailreqd
