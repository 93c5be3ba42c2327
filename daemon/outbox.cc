#include "daemon/outbox.h"

#include <algorithm>
#include <map>
#include <random>

#include "daemon/identity.h"
#include "daemon/log.h"

namespace mailreqd {
namespace {

// Replies taken from the outbox at once and sent over the configured connections.
constexpr int kSendBatch = 200;

int64_t Backoff(int attempts, int max_delay_s) {
  // Exponential from 30 s, capped, with jitter so that many replies don't retry in step.
  int64_t base = std::min<int64_t>(int64_t{30} << std::clamp(attempts - 1, 0, 10), 3600);
  base = std::min<int64_t>(base, max_delay_s);
  static thread_local std::mt19937 rng{std::random_device{}()};
  return base / 2 + std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(base / 2, 1))(rng);
}

}  // namespace

Outbox::Outbox(Store& store, Sender& sender, Clock& clock, const Config& config)
    : store_(store), sender_(sender), clock_(clock), config_(config) {}

Result<SendStats> Outbox::SendDue(const volatile bool* stop, int max_delay_s, bool give_up) {
  SendStats stats;
  if (clock_.Now() < paused_until_) return stats;  // the server was down: wait it out
  auto this_hour = store_.SentSince("", clock_.Now() - 3600);
  if (!this_hour.ok()) return this_hour.status();
  int sent_this_hour = *this_hour;
  for (;;) {
    if (stop && *stop) return stats;
    auto due = store_.DueReplies(clock_.Now(), kSendBatch);
    if (!due.ok()) return due.status();
    if (due->empty()) return stats;
    // A ceiling on everything we send: a flood of requests (or a bug) must not turn us
    // into a spam source. What is over it stays in the outbox.
    int room = std::max(config_.smtp.max_per_hour - sent_this_hour, 0);
    bool ceiling = static_cast<int>(due->size()) > room;
    if (ceiling) due->resize(room);
    std::vector<OutboxRow> refused;
    auto go = Admit(*due, refused, stats);
    if (!go.ok()) return go.status();
    Mark(refused);
    int before = stats.sent;
    Status down = Status::Ok();
    bool stopped = SendBatch(*go, stop, max_delay_s, give_up, stats, down);
    sent_this_hour += stats.sent - before;
    if (!down.ok()) {
      ServerDown(down, max_delay_s);
      return stats;
    }
    if (stats.sent > before && down_spells_ > 0) {
      Log(LogLevel::kNotice, "smtp-recovered", {{"failures", std::to_string(down_spells_)}});
      down_spells_ = 0;
    }
    if (ceiling) {
      // Once per spell at the ceiling, not at every look at the outbox.
      if (!at_ceiling_) {
        Log(LogLevel::kError, "rate-limit-hour",
            {{"sent", std::to_string(sent_this_hour)}, {"pending", "kept in outbox"}});
      }
      at_ceiling_ = true;
      return stats;
    }
    at_ceiling_ = false;
    if (stopped || stats.retry > 0) return stats;  // stopping, or the server is unwell
  }
}

Result<std::vector<OutboxRow*>> Outbox::Admit(std::vector<OutboxRow>& due,
                                              std::vector<OutboxRow>& refused, SendStats& stats) {
  // Anyone can make us write to any address by forging From: a few replies a day to one
  // address is what a customer needs, more is abuse. Replies to the same address within
  // this batch count too: they are not marked sent yet.
  std::map<std::string, int> in_batch;
  std::vector<OutboxRow*> go;
  // One snapshot for the batch's lookups: each lone query would take the database's
  // locks again (fcntl) and re-check the WAL; the only writer of "sent" is this thread.
  ReadSnapshot snapshot(store_);
  for (auto& row : due) {
    int& queued = in_batch[NormalizeAddress(row.recipient)];
    auto today = store_.SentSince(row.recipient, clock_.Now() - 86400);
    if (!today.ok()) return today.status();
    int count = *today + queued;
    if (count < config_.smtp.max_per_recipient_per_day) {
      ++queued;
      go.push_back(&row);
      continue;
    }
    row.status = "failed";
    row.last_error = "rate limit: " + std::to_string(count) + " replies to this address in 24 h";
    stats.failed++;
    Log(LogLevel::kWarning, "rate-limit-recipient",
        {{"reply", row.message_id}, {"to", MaskAddress(row.recipient)}});
    refused.push_back(row);
  }
  return go;
}

bool Outbox::SendBatch(const std::vector<OutboxRow*>& rows, const volatile bool* stop,
                       int max_delay_s, bool give_up, SendStats& stats, Status& down) {
  std::vector<Envelope> mails;
  for (const OutboxRow* row : rows) mails.push_back({&row->recipient, &row->raw});
  size_t finished = 0;
  std::vector<OutboxRow> unmarked;
  auto done = [&](size_t i, const Status& s) {
    Record(*rows[i], s, max_delay_s, give_up, stats);
    unmarked.push_back(*rows[i]);
    ++finished;
    if (s.transient() && s.message().rfind(kServerUnavailable, 0) == 0 && down.ok()) down = s;
    // No new transfer once the server is found down: the rest of the batch would only
    // fail the same way (and each try counts against its reply).
    return down.ok();
  };
  // Before the sender starts anything more: a crash must not re-send what the server has
  // (beyond what is in flight). The replies finished together share a transaction.
  auto settled = [&] {
    Mark(unmarked);
    unmarked.clear();
  };
  sender_.SendAll(config_.smtp.from_addr, mails, stop, done, settled);
  return finished < rows.size();
}

void Outbox::ServerDown(const Status& why, int max_delay_s) {
  ++down_spells_;
  int64_t pause = std::min<int64_t>({int64_t{5} << std::min(down_spells_ - 1, 10), 60, max_delay_s});
  paused_until_ = clock_.Now() + pause;
  // Once per outage (smtp-recovered sums it up); each deferred reply has its own line.
  if (down_spells_ == 1) {
    Log(LogLevel::kWarning, "smtp-unavailable", {{"error", why.message()},
                                                 {"retry_in", std::to_string(pause) + "s"}});
  }
}

void Outbox::Record(OutboxRow& row, const Status& s, int max_delay_s, bool give_up,
                    SendStats& stats) {
  row.attempts++;
  if (s.ok()) {
    row.status = "sent";
    row.sent_at = clock_.Now();
    row.last_error.clear();
    stats.sent++;
  } else if (s.transient() && (!give_up || row.attempts < config_.smtp.max_attempts)) {
    row.next_attempt_at = clock_.Now() + Backoff(row.attempts, max_delay_s);
    row.last_error = s.message();
    stats.retry++;
    Log(LogLevel::kWarning, "reply-deferred", {{"reply", row.message_id},
                                               {"attempt", std::to_string(row.attempts)},
                                               {"error", s.message()}});
  } else {
    row.status = "failed";
    row.last_error = s.message();
    stats.failed++;
    Log(LogLevel::kError, "reply-failed", {{"reply", row.message_id},
                                           {"to", MaskAddress(row.recipient)},
                                           {"error", s.message()}});
  }
}

void Outbox::Mark(const std::vector<OutboxRow>& rows) {
  if (rows.empty()) return;
  Status m = store_.MarkReplies(rows);
  if (m.ok()) return;
  // The reply stays as it was in the database: pending, so sent again later (same
  // Message-ID). Nothing better can be done about a database refusing a write.
  Log(LogLevel::kError, "outbox-update-failed", {{"replies", std::to_string(rows.size())},
                                                 {"error", m.message()}});
}

}  // namespace mailreqd
