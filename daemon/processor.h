// Processor: the one place logic meets I/O. Takes its ports in the constructor and reads
// as a flat list of steps, in the order that makes every request happen exactly once:
//   fetch a chunk -> decide each mail -> record requests + effects + replies in one
//   durable transaction (group commit) -> move the chunk's mail -> send from the outbox
//   -> mark each reply sent.
// A crash between any two steps repeats only idempotent work: a re-fetched message that
// is already recorded is just moved; an unsent outbox row is sent again, same Message-ID.
// A message that crashes the daemon is found by its attempt count: it is retried alone,
// and after kMaxAttempts tries moved to the quarantine folder for a human.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "config/config.h"
#include "daemon/decide.h"
#include "daemon/ports.h"
#include "daemon/store.h"
#include "templates/templates.h"

namespace mailreqd {

struct DrainStats {
  int messages = 0;   // handled this drain (new or already recorded)
  int recorded = 0;   // newly recorded
  int quarantined = 0;
  uint64_t bytes = 0;
};

struct SendStats {
  int sent = 0;
  int retry = 0;   // left in the outbox for later
  int failed = 0;  // refused for good
};

class Processor {
 public:
  static constexpr int kMaxAttempts = 3;

  Processor(Mailbox& mailbox, Store& store, Sender& sender, Clock& clock, const Config& config,
            const TemplateSet& templates);

  // Handles every message in the inbox once. Stops between chunks when *stop.
  Result<DrainStats> Drain(const volatile bool* stop);
  // Sends the replies that are due. `max_delay_s` caps the retry backoff (--once uses a
  // short one so that a brief SMTP hiccup is ridden out within the run). A reply that
  // keeps failing transiently is marked failed after smtp.max_attempts only when
  // `give_up` (the daemon, whose backoff spans about a day); --once leaves it pending.
  Result<SendStats> SendDue(const volatile bool* stop, int max_delay_s, bool give_up);

 private:
  // One decided message waiting for the chunk's commit.
  struct Prepared {
    uint32_t uid = 0;
    std::string key, username;  // what later mails in the batch must not also touch
    Folder folder = Folder::kReview;
    std::optional<Change> change;  // nullopt: already recorded, only to be moved
    LogFields log;
  };
  // The chunk being built: flushed before a message that touches what it touches.
  struct Batch {
    std::vector<Prepared> items;
    std::set<std::string> keys, usernames;
  };

  Status DrainChunk(const std::vector<PendingMessage>& chunk, DrainStats& stats);
  Status Quarantine(const PendingMessage& m, DrainStats& stats);
  Status ProcessMessages(const std::vector<uint32_t>& uids, DrainStats& stats);
  // Clears the attempt counts of `keys` (ProcessMessages returned: no crash); returns
  // `processed` when it is an error, else the outcome of the clearing.
  Status ClearedAfter(Status processed, const std::vector<std::string>& keys);
  Result<Prepared> Prepare(const RawMessage& raw, const Batch& batch, bool& must_flush);
  Status Flush(Batch& batch, DrainStats& stats);
  Result<std::vector<OutboxRow>> Render(const Decision& d, const Message& msg);
  const std::string& FolderName(Folder f) const;
  // The rows that may be sent now; marks the others failed when their recipient has had
  // enough replies today (counting those queued before them in `due`).
  Result<std::vector<OutboxRow*>> Admit(std::vector<OutboxRow>& due, SendStats& stats);
  // Sends `rows` and records each outcome in its row; true when stopped before the end.
  bool SendBatch(const std::vector<OutboxRow*>& rows, const volatile bool* stop,
                 int max_delay_s, bool give_up, SendStats& stats);
  // Records one send's outcome: sent, retry later with backoff, or failed for good.
  void Record(OutboxRow& row, const Status& s, int max_delay_s, bool give_up, SendStats& stats);

  Mailbox& mailbox_;
  Store& store_;
  Sender& sender_;
  Clock& clock_;
  const Config& config_;
  const TemplateSet& templates_;
  Decider decider_;
  ClassifyConfig classify_config_;
};

// "mid:<Message-ID> <from>" or "sha256:<hex>" when the mail has no Message-ID.
std::string RequestKey(const Message& msg, std::string_view raw);
// "processed" / "review" / "quarantine": what the requests table records.
const char* FolderKind(Folder f);

}  // namespace mailreqd
