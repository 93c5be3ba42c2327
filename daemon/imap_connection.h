// ImapConnection: one authenticated IMAP session over a libcurl CONNECT_ONLY handle.
//
// libcurl (7.88) does the connect, TLS or STARTTLS, CAPABILITY and AUTH; from then on we
// speak IMAP ourselves with curl_easy_send/recv, reading responses with a literal-aware
// reader. This is deliberate: libcurl's custom-request FETCH hands literals to the wrong
// callback and can be desynchronised by a body line that looks like a tagged reply
// (NOTES-libraries.md §1), and it has no IDLE. Here a literal {N} is always read as N
// bytes, so message content can never be taken for protocol.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "daemon/curl_error.h"
#include "daemon/status.h"

namespace mailreqd {

struct ImapEndpoint {
  std::string url;  // imap://host:port or imaps://host:port (mailbox path ignored here)
  std::string username;
  std::string password;
  // XOAUTH2 instead of a password: the bearer token is read from this file at every
  // connect, so that an external helper can refresh it and a rejected login (which
  // drops the connection) picks up the new one.
  std::string bearer_file;
  std::string ca_file;
  bool insecure = false;     // no certificate verification (loudly logged by the caller)
  bool require_tls = true;   // imap://: STARTTLS with CURLUSESSL_ALL (never TRY)
  int timeout_s = 30;
};

// One untagged or tagged response. Literals are cut out of `text` (which keeps the
// "{N}" marker) and kept, in order, in `literals`.
struct ImapLine {
  std::string text;
  std::vector<std::string> literals;
};

struct ImapReply {
  std::vector<ImapLine> untagged;  // "* ..." lines, and "+ ..." continuation lines
  std::string status;              // OK / NO / BAD
  std::string text;                // the tagged line's text after the status
};

class ImapConnection {
 public:
  explicit ImapConnection(ImapEndpoint endpoint);
  ~ImapConnection();
  ImapConnection(const ImapConnection&) = delete;
  ImapConnection& operator=(const ImapConnection&) = delete;

  Status Connect();
  bool connected() const { return handle_ != nullptr; }
  void Close();  // drops the connection; the next Connect() starts afresh
  const std::vector<std::string>& capabilities() const { return caps_; }
  bool Has(const std::string& cap) const;

  // Sends "TAG command" and reads until the tagged reply. A NO/BAD is returned in
  // ImapReply.status, not as an error; transport failures are Transient and close.
  // With `sink`, untagged lines go to it as they come instead of into ImapReply (a
  // listing of 50,000 mails need not be held whole).
  using UntaggedSink = std::function<void(ImapLine&)>;
  Result<ImapReply> Command(const std::string& command, const UntaggedSink& sink = nullptr);
  // Command in two halves, for pipelining (RFC 3501 §5.5): Send returns the tag, and the
  // server starts on the command while the caller works; Await(tag) reads its answer.
  // Between the two, no other command may be awaited on this connection.
  Result<std::string> Send(const std::string& command);
  Result<ImapReply> Await(const std::string& tag, const UntaggedSink& sink = nullptr);

  // IDLE (RFC 2177): waits up to `seconds` for an untagged EXISTS/RECENT, then DONE.
  // Returns true when new mail was announced. `stop` is polled about once a second.
  Result<bool> Idle(int seconds, const volatile bool* stop);

  // Whether an untagged "* n EXISTS" came with the answer to any command since the last
  // call (RFC 3501 §7.3.1: a server announces new mail in the answer to whatever command
  // is running, and does not repeat it at the next IDLE). Clears the flag.
  bool TakeExistsSeen();

  // Commands sent since construction (for the benchmark's commands-per-message figure).
  uint64_t commands_sent() const { return commands_sent_; }

 private:
  Status SendAll(const std::string& data);
  Result<ImapLine> ReadLine(int timeout_ms);
  Status Fill(int timeout_ms);  // reads more bytes into buffer_
  Status Fail(const std::string& what);
  Result<bool> IdleLoop(int seconds, const volatile bool* stop);

  ImapEndpoint endpoint_;
  CURL* handle_ = nullptr;
  CurlErrorText error_;  // what libcurl said about a failed connect
  std::string buffer_;
  size_t pos_ = 0;
  uint64_t tag_ = 0;
  uint64_t commands_sent_ = 0;
  bool exists_seen_ = false;
  std::vector<std::string> caps_;
};

// "Name" as an IMAP quoted string.
std::string ImapQuote(const std::string& s);
// RFC 3501 date-time "17-Jul-1996 02:44:25 -0700" -> unix seconds, or -1.
int64_t ParseInternalDate(const std::string& s);
// {1,2,3,7,9,10} -> "1:3,7,9:10"
std::string UidSet(std::vector<uint32_t> uids);

}  // namespace mailreqd
