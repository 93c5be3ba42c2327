// ImapMailbox: the Mailbox port over ImapConnection. Batched: a command or two lists a
// window of UIDs with their sizes, bodies come in chunks with BODY.PEEK[] (so \Seen is never touched and
// another client reading the mailbox changes nothing), and moves go in UID sets.
// Any transport error closes the connection; the next call reconnects.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/imap_connection.h"
#include "daemon/ports.h"

namespace mailreqd {

class ImapMailbox : public Mailbox {
 public:
  ImapMailbox(ImapEndpoint endpoint, std::string inbox);

  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override;
  // Sends the UID FETCH for `uids` now, without reading its answer: the server reads
  // those mails while the caller works on the last ones (in a 10,000-mail drain the
  // reading thread waited 0.6 s for FETCH answers). Fetch(uids) then reads the answer;
  // any other call reads it first and drops it. The answer waits in the socket buffers,
  // not in our memory. At most one prefetch at a time; a no-op when not connected.
  void Prefetch(const std::vector<uint32_t>& uids) override;
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override;

  uint32_t uidvalidity() const { return uidvalidity_; }
  uint64_t commands_sent() const { return conn_.commands_sent(); }
  // Message bodies the server sent, a dropped prefetch's included: more than the mails
  // handled means bodies fetched twice.
  uint64_t bodies_fetched() const { return bodies_fetched_; }
  Status Ready();  // connects and selects the inbox when needed
  void Close();  // the next call connects and selects afresh

 private:
  Result<uint32_t> HighestUid();  // 0 for an empty inbox
  // The sizes of the `limit` oldest messages with UIDs in (after, highest], into `out`.
  Status ListUids(uint32_t after, uint32_t highest, size_t limit, std::vector<PendingMessage>& out);
  Status EnsureFolder(const std::string& folder);
  Status MoveOnce(const std::string& uid_set, const std::string& folder);
  // A NO/BAD becomes an error. Settles a prefetch first.
  Result<ImapReply> Ok(const std::string& command,
                       const ImapConnection::UntaggedSink& sink = nullptr);
  Result<ImapReply> Checked(Result<ImapReply> reply, const std::string& command);
  // Reads and drops the answer to a prefetch that was not asked for: the session can
  // take the next command.
  Status Settle();

  struct Ahead {  // a prefetch sent, its answer not read yet
    std::vector<uint32_t> uids;
    std::string tag;
  };

  ImapConnection conn_;
  std::optional<Ahead> ahead_;
  uint64_t bodies_fetched_ = 0;
  std::string inbox_;
  uint32_t uidvalidity_ = 0;
  std::vector<std::string> known_folders_;
};

// The mailbox path of an imap(s) URL: "imap://h:1/INBOX" -> "INBOX" (default INBOX).
std::string MailboxOfUrl(const std::string& url);

}  // namespace mailreqd
