// ImapMailbox: the Mailbox port over ImapConnection. Batched: a command or two lists a
// window of UIDs with their sizes, bodies come in chunks with BODY.PEEK[] (so \Seen is never touched and
// another client reading the mailbox changes nothing), and moves go in UID sets.
// Any transport error closes the connection; the next call reconnects.
#pragma once

#include <memory>
#include <string>

#include "daemon/imap_connection.h"
#include "daemon/ports.h"

namespace mailreqd {

class ImapMailbox : public Mailbox {
 public:
  ImapMailbox(ImapEndpoint endpoint, std::string inbox);

  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override;
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override;

  uint32_t uidvalidity() const { return uidvalidity_; }
  uint64_t commands_sent() const { return conn_.commands_sent(); }
  Status Ready();  // connects and selects the inbox when needed
  void Close() { conn_.Close(); }  // the next call connects and selects afresh

 private:
  Result<uint32_t> HighestUid();  // 0 for an empty inbox
  // The sizes of the `limit` oldest messages with UIDs in (after, highest], into `out`.
  Status ListUids(uint32_t after, uint32_t highest, size_t limit, std::vector<PendingMessage>& out);
  Status EnsureFolder(const std::string& folder);
  Status MoveOnce(const std::string& uid_set, const std::string& folder);
  // A NO/BAD becomes an error.
  Result<ImapReply> Ok(const std::string& command,
                       const ImapConnection::UntaggedSink& sink = nullptr);

  ImapConnection conn_;
  std::string inbox_;
  uint32_t uidvalidity_ = 0;
  std::vector<std::string> known_folders_;
};

// The mailbox path of an imap(s) URL: "imap://h:1/INBOX" -> "INBOX" (default INBOX).
std::string MailboxOfUrl(const std::string& url);

}  // namespace mailreqd
