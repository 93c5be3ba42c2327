#include "tests/fakes/fake_store.h"

#include <algorithm>

namespace mailreqd {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Subscription& FakeStore::AddSubscription(const std::string& user, const std::string& service,
                                         BillingPeriod p, Date anchor) {
  Subscription s;
  s.id = static_cast<int64_t>(subscriptions.size()) + 1;
  s.username = user;
  s.service = service;
  s.period = p;
  s.anchor = anchor;
  subscriptions.push_back(s);
  return subscriptions.back();
}

Result<std::optional<RequestRecord>> FakeStore::FindRequest(const std::string& key) {
  auto it = requests.find(key);
  if (it == requests.end()) return std::optional<RequestRecord>();
  return std::optional<RequestRecord>(it->second);
}

Result<std::optional<Customer>> FakeStore::FindCustomer(const std::string& username) {
  auto it = customers.find(username);
  if (it == customers.end()) return std::optional<Customer>();
  return std::optional<Customer>(it->second);
}

Result<std::vector<Customer>> FakeStore::CustomersByEmail(const std::string& email) {
  ++email_lookups;
  std::vector<Customer> out;
  for (const auto& [_, c] : customers) {
    if (Lower(c.email) == Lower(email)) out.push_back(c);
  }
  return out;
}

Result<std::vector<Subscription>> FakeStore::Subscriptions(const std::string& username) {
  std::vector<Subscription> out;
  for (const auto& s : subscriptions) {
    if (s.username == username) out.push_back(s);
  }
  return out;
}

Result<std::vector<RequestRecord>> FakeStore::RequestsOf(const std::string& username) {
  std::vector<RequestRecord> out;
  for (const auto& c : committed) {
    if (c.request.username == username) out.push_back(c.request);
  }
  return out;
}

Result<std::optional<TokenRow>> FakeStore::FindToken(const std::string& hash) {
  auto it = tokens.find(hash);
  if (it == tokens.end()) return std::optional<TokenRow>();
  return std::optional<TokenRow>(it->second);
}

Status FakeStore::Commit(const Change& c) {
  if (fail_next) {
    Status s = *fail_next;
    fail_next.reset();
    return s;
  }
  if (requests.count(c.request.key)) return Status::Permanent("duplicate request");
  if (c.use_token_hash) {
    auto it = tokens.find(*c.use_token_hash);
    if (it == tokens.end() || it->second.used_at) {
      return Status::Permanent("token unknown or already used");
    }
    it->second.used_at = c.request.arrived;
  }
  requests[c.request.key] = c.request;
  if (c.subscription_update) {
    for (auto& s : subscriptions) {
      if (s.id == c.subscription_update->id) s = *c.subscription_update;
    }
  }
  if (c.customer_update) customers[c.customer_update->username] = *c.customer_update;
  for (const auto& t : c.new_tokens) tokens[t.hash] = t;
  for (auto r : c.replies) {
    r.id = static_cast<int64_t>(outbox.size()) + 1;
    outbox.push_back(r);
  }
  committed.push_back(c);
  return Status::Ok();
}

Result<std::vector<Status>> FakeStore::CommitEach(const std::vector<Change>& changes) {
  std::vector<Status> out;
  for (const auto& c : changes) {
    Status s = Commit(c);
    if (s.transient()) return s;
    out.push_back(s);
  }
  return out;
}

Result<std::vector<OutboxRow>> FakeStore::DueReplies(int64_t now, int limit) {
  std::vector<OutboxRow> out;
  for (const auto& r : outbox) {
    if (r.status == "pending" && r.next_attempt_at <= now && static_cast<int>(out.size()) < limit) {
      out.push_back(r);
    }
  }
  return out;
}

Status FakeStore::MarkReplies(const std::vector<OutboxRow>& rows) {
  ++mark_calls;
  for (const auto& row : rows) {
    for (auto& r : outbox) {
      if (r.id == row.id) r = row;
    }
  }
  return Status::Ok();
}

Result<int> FakeStore::SentSince(const std::string& recipient, int64_t since) {
  int n = 0;
  for (const auto& r : outbox) {
    bool to = recipient.empty() || Lower(r.recipient) == Lower(recipient);
    n += r.status == "sent" && to && r.sent_at.value_or(0) >= since;
  }
  return n;
}

Result<int> FakeStore::Attempts(const std::string& key) { return attempts[key]; }

Status FakeStore::AddAttempt(const std::vector<std::string>& keys) {
  for (const auto& k : keys) attempts[k]++;
  return Status::Ok();
}

Status FakeStore::ClearAttempts(const std::vector<std::string>& keys) {
  for (const auto& k : keys) attempts.erase(k);
  return Status::Ok();
}

}  // namespace mailreqd
