// The edges: mail in (Mailbox), mail out (Sender), time (Clock). Real adapters use libcurl
// and the system clock; unit tests use tests/fakes/. The Store port is in store.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "daemon/status.h"

namespace mailreqd {

struct PendingMessage {
  uint32_t uid = 0;
  uint32_t uidvalidity = 0;  // with uid, names the message for as long as it exists
  uint64_t size = 0;  // RFC822.SIZE: lets the engine skip or chunk before fetching
};

struct RawMessage {
  uint32_t uid = 0;
  std::string bytes;    // the whole message as stored
  int64_t arrived = 0;  // unix seconds: IMAP INTERNALDATE, the moment the request counts from
};

// Keeps the `limit` oldest (lowest-UID) messages above `after`, sorted.
void KeepOldest(std::vector<PendingMessage>& listed, uint32_t after, size_t limit);

class Mailbox {
 public:
  virtual ~Mailbox() = default;
  // The messages in the inbox with a UID above `after`, oldest first, at most `limit` of
  // them: a drain lists a big inbox in windows, so that its memory does not grow with the
  // inbox. Does not depend on \Seen.
  virtual Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) = 0;
  // Every message in the inbox, oldest first.
  Result<std::vector<PendingMessage>> Pending() { return PendingAfter(0, SIZE_MAX); }
  // Bodies of the given messages; a UID that vanished meanwhile is simply absent.
  virtual Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) = 0;
  // A hint that Fetch(uids) comes next: a remote mailbox may ask for it now, so that the
  // server works while the caller does. Changes nothing else; by default, nothing.
  virtual void Prefetch(const std::vector<uint32_t>& uids) { (void)uids; }
  // Moves the messages to `folder` (created when missing).
  virtual Status Move(const std::vector<uint32_t>& uids, const std::string& folder) = 0;
  // Blocks until new mail may have arrived or `seconds` passed (IDLE, or a plain wait).
  // Returns early, with false, when `stop` becomes true.
  virtual Result<bool> WaitForMail(int seconds, const volatile bool* stop) = 0;
};

// One message to hand to the SMTP server; the strings are owned by the caller.
struct Envelope {
  const std::string* rcpt = nullptr;
  const std::string* raw = nullptr;
};

// Starts the message of a Transient status that says the server as a whole is down
// (no connection, no reply, or 421), as opposed to refusing one mail for now.
inline constexpr const char* kServerUnavailable = "SMTP server unavailable: ";

class Sender {
 public:
  virtual ~Sender() = default;
  // Hands one RFC 5322 message (CRLF line ends) to the server. Transient: 4xx or the
  // connection failed (retry later; kServerUnavailable when it is the server, not the
  // mail). Permanent: 5xx, with the server's text.
  virtual Status Send(const std::string& from_addr, const std::string& rcpt,
                      const std::string& raw) = 0;
  // Hands several messages over, starting them in order (an adapter may have several in
  // flight at once). Calls `done(i, status)` as soon as mails[i] is finished, and
  // `settled()` after each group of such calls and before it starts anything more, so
  // that the caller can record the group at once: a crash then re-sends at most what was
  // in flight. `done` returns false to start no more. Stops starting new ones when
  // `*stop` becomes true: those never get a call. The default sends one by one.
  using SendDone = std::function<bool(size_t, const Status&)>;
  using SendSettled = std::function<void()>;
  virtual void SendAll(const std::string& from_addr, const std::vector<Envelope>& mails,
                       const volatile bool* stop, const SendDone& done,
                       const SendSettled& settled);
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t Now() = 0;  // unix seconds
};

class SystemClock : public Clock {
 public:
  int64_t Now() override;
};

}  // namespace mailreqd
