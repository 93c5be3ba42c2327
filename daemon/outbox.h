// Outbox: sends the replies the Processor recorded, and records what became of each.
// Independent of the mailbox (an SMTP outage never stops requests being recorded), so
// it can run on its own thread with its own Store connection.
//
// Exactly once, as far as SMTP allows: a reply is marked sent as soon as the server
// accepted it (in the store's journal: sqlite_store.h), before the sender sends more. A
// crash can only re-send the replies in flight at that moment (at most
// smtp.connections), with the same Message-IDs.
#pragma once

#include <vector>

#include "config/config.h"
#include "daemon/ports.h"
#include "daemon/store.h"

namespace mailreqd {

struct SendStats {
  int sent = 0;
  int retry = 0;   // left in the outbox for later
  int failed = 0;  // refused for good
};

class Outbox {
 public:
  Outbox(Store& store, Sender& sender, Clock& clock, const Config& config);

  // Sends the replies that are due. `max_delay_s` caps the retry backoff (--once uses a
  // short one so that a brief SMTP hiccup is ridden out within the run). A reply that
  // keeps failing transiently is marked failed after smtp.max_attempts only when
  // `give_up` (the daemon, whose backoff spans about a day); --once leaves it pending.
  // Returns early when `*stop`: replies in flight finish and are recorded.
  Result<SendStats> SendDue(const volatile bool* stop, int max_delay_s, bool give_up);

 private:
  // The rows that may be sent now. Marks the others failed, in `refused`, when their
  // recipient has had enough replies today (counting those queued before them).
  Result<std::vector<OutboxRow*>> Admit(std::vector<OutboxRow>& due,
                                        std::vector<OutboxRow>& refused, SendStats& stats);
  // Sends `rows`, recording each outcome as it comes; true when stopped before the end.
  // Stops starting transfers once the server is found down (`down` says why).
  bool SendBatch(const std::vector<OutboxRow*>& rows, const volatile bool* stop,
                 int max_delay_s, bool give_up, SendStats& stats, Status& down);
  // Applies one send's outcome to its row: sent, retry later with backoff, or failed.
  void Record(OutboxRow& row, const Status& s, int max_delay_s, bool give_up, SendStats& stats);
  void Mark(const std::vector<OutboxRow>& rows);

  // After a batch that found the server down: pause all sending (capped backoff), and
  // tell the operator once. Returns the stats as the caller's result.
  void ServerDown(const Status& why, int max_delay_s);

  Store& store_;
  Sender& sender_;
  bool at_ceiling_ = false;  // the hourly limit was reached and logged
  int down_spells_ = 0;      // consecutive batches that found the server down
  int64_t paused_until_ = 0;
  Clock& clock_;
  const Config& config_;
};

}  // namespace mailreqd
