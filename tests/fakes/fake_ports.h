// Fakes of the Mailbox, Sender and Clock ports: they record calls and fail on demand,
// e.g. `sender.fail_next = Status::Transient("421 try later")`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/ports.h"

namespace mailreqd {

class FakeMailbox : public Mailbox {
 public:
  std::map<uint32_t, RawMessage> inbox;
  std::map<std::string, std::vector<RawMessage>> folders;
  int fetches = 0;
  int listings = 0;
  std::vector<std::vector<uint32_t>> fetched;     // the UIDs of each Fetch, in order
  std::vector<std::vector<uint32_t>> prefetched;  // the UIDs of each Prefetch hint

  uint32_t Add(std::string raw, int64_t arrived) {
    uint32_t uid = next_uid_++;
    inbox[uid] = RawMessage{uid, std::move(raw), arrived};
    return uid;
  }
  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override {
    ++listings;
    std::vector<PendingMessage> out;
    for (const auto& [uid, m] : inbox) out.push_back({uid, 7, m.bytes.size()});
    KeepOldest(out, after, limit);
    return out;
  }
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override {
    ++fetches;
    fetched.push_back(uids);
    std::vector<RawMessage> out;
    for (auto uid : uids) {
      if (inbox.count(uid)) out.push_back(inbox[uid]);
    }
    return out;
  }
  void Prefetch(const std::vector<uint32_t>& uids) override { prefetched.push_back(uids); }
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override {
    for (auto uid : uids) {
      folders[folder].push_back(inbox[uid]);
      inbox.erase(uid);
    }
    return Status::Ok();
  }
  Result<bool> WaitForMail(int, const volatile bool*) override { return false; }

 private:
  uint32_t next_uid_ = 1;
};

struct SentMail {
  std::string from, rcpt, raw;
};

class FakeSender : public Sender {
 public:
  std::vector<SentMail> sent;
  std::optional<Status> fail_next;
  // Sets *stop_flag once `stop_after` mails were sent, as SIGTERM would mid-batch.
  bool* stop_flag = nullptr;
  size_t stop_after = 0;
  Status Send(const std::string& from, const std::string& rcpt, const std::string& raw) override {
    if (fail_next) {
      Status s = *fail_next;
      fail_next.reset();
      return s;
    }
    sent.push_back({from, rcpt, raw});
    if (stop_flag && sent.size() >= stop_after) *stop_flag = true;
    return Status::Ok();
  }
};

class FakeClock : public Clock {
 public:
  int64_t now = 1'780'000'000;  // 2026-05-28
  int64_t Now() override { return now; }
};

}  // namespace mailreqd
