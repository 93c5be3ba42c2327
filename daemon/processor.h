// Processor: the one place logic meets I/O. Takes its ports in the constructor and reads
// as a flat list of steps, in the order that makes every request happen exactly once:
//   fetch a chunk -> decide each mail -> record requests + effects + replies in one
//   durable transaction (group commit) -> move the chunk's mail. Sending from the outbox
//   is the Outbox's (outbox.h), which may run beside it.
// A crash between any two steps repeats only idempotent work: a re-fetched message that
// is already recorded is just moved; an unsent outbox row is sent again, same Message-ID.
// A message that crashes the daemon is found by its attempt count: it is retried alone,
// and after kMaxAttempts tries moved to the quarantine folder for a human.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>

#include "config/config.h"
#include "daemon/decide.h"
#include "daemon/log.h"
#include "daemon/ports.h"
#include "daemon/read_mail.h"
#include "daemon/store.h"
#include "templates/templates.h"

namespace mailreqd {

struct DrainStats {
  int messages = 0;   // handled this drain (new or already recorded)
  int recorded = 0;   // newly recorded
  int quarantined = 0;
  uint64_t bytes = 0;
};

class Processor {
 public:
  static constexpr int kMaxAttempts = 3;

  Processor(Mailbox& mailbox, Store& store, Clock& clock, const Config& config,
            const TemplateSet& templates);

  // Handles every message in the inbox once. Stops between chunks when *stop.
  Result<DrainStats> Drain(const volatile bool* stop);
  // Called after each commit that recorded requests (and so, perhaps, replies to send).
  void OnRecorded(std::function<void()> hook) { on_recorded_ = std::move(hook); }

 private:
  // One decided message waiting for the chunk's commit.
  struct Prepared {
    uint32_t uid = 0;
    std::string key, username;  // what later mails in the batch must not also touch
    Folder folder = Folder::kReview;
    std::optional<Change> change;  // nullopt: already recorded, only to be moved
    LogFields log;
  };
  // What the mails of one pass touch: their request keys and accounts.
  struct Touched {
    std::set<std::string> keys, usernames;
    bool Has(const std::string& key, const std::string& username) const {
      return keys.count(key) || (!username.empty() && usernames.count(username));
    }
  };
  // One pass over a chunk, recorded in one transaction. A mail that touches what an
  // earlier mail of the pass touches waits for the next pass, so that it is decided on
  // the state that mail leaves; so does every later mail touching what a waiting one
  // touches, which keeps each account's mail in arrival order.
  struct Batch {
    std::vector<Prepared> items;
    Touched taken, waiting;
    bool all_wait = false;  // a confirmation waits: it may touch any account
    bool MustWait(const std::string& key, const std::string& username, bool confirm) const;
    void Wait(const std::string& key, const std::string& username, bool confirm);
  };

  using Moves = std::map<Folder, std::vector<uint32_t>>;  // what a chunk moves where

  Status DrainChunk(std::span<const PendingMessage> chunk, DrainStats& stats);
  Status Quarantine(const PendingMessage& m, DrainStats& stats);
  // The recorded processing attempts of each mail of the chunk, read in one snapshot.
  Result<std::vector<int>> AttemptsOf(std::span<const PendingMessage> chunk);
  Status ProcessMessages(const std::vector<uint32_t>& uids, DrainStats& stats);
  // Decides and records the mails of `todo` that need not wait (see Batch); leaves the
  // others, in order, in `todo` for the next pass.
  Status ProcessPass(std::vector<const ReadMail*>& todo, Moves& moves, DrainStats& stats,
                     LogBatch& logs);
  // Clears the attempt counts of `keys` (ProcessMessages returned: no crash); returns
  // `processed` when it is an error, else the outcome of the clearing.
  Status ClearedAfter(Status processed, const std::vector<std::string>& keys);
  // Sets `wait` (and returns nothing useful) when the mail must wait for the next pass.
  Result<Prepared> Prepare(const ReadMail& mail, Batch& batch, bool& wait);
  // Records the pass's batch in the chunk's group (its last use: the changes are moved
  // out), adds its mail to `moves` and what to log of it to `logs`.
  Status Flush(Batch& batch, Moves& moves, DrainStats& stats, LogBatch& logs);
  Result<std::vector<OutboxRow>> Render(const Decision& d, const Message& msg);
  const std::string& FolderName(Folder f) const;


  Mailbox& mailbox_;
  Store& store_;
  Clock& clock_;
  const Config& config_;
  const TemplateSet& templates_;
  Decider decider_;
  ClassifyConfig classify_config_;
  std::function<void()> on_recorded_;
  std::vector<uint32_t> next_chunk_;  // Drain's next chunk: prefetched once this one is in
};

// "mid:<Message-ID> <from>" or "sha256:<hex>" when the mail has no Message-ID.
std::string RequestKey(const Message& msg, std::string_view raw);
// "processed" / "review" / "quarantine": what the requests table records.
const char* FolderKind(Folder f);

}  // namespace mailreqd
