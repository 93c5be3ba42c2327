// SMTP replies as read off a pipelined session, and what a refusal means for the mail.
//
// SmtpReplyReader takes the bytes a server sends, in whatever pieces they arrive, and
// gives back whole replies (RFC 5321 §4.2: "250-..." lines continue, "250 ..." ends).
// SmtpRefusal turns a refused reply into the Status the outbox acts on, exactly as the
// libcurl path does: 5xx is Permanent, 421 means the server is going away
// (kServerUnavailable), any other 4xx is Transient. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"

namespace mailreqd {

struct SmtpReply {
  int code = 0;      // 0: the line had no three-digit code (a broken server)
  std::string line;  // the reply's last line, without CRLF ("550 5.1.1 No such user")
  bool positive() const { return code >= 200 && code < 400; }
};

class SmtpReplyReader {
 public:
  // Appends the replies completed by `bytes` to `out`.
  void Feed(std::string_view bytes, std::vector<SmtpReply>& out);
  // Bytes of an unfinished line or reply kept: a server that never ends its line must
  // not grow this without bound (the caller drops the session past a limit).
  size_t buffered() const { return partial_.size(); }

 private:
  std::string partial_;
};

// The text the server gave, with every occurrence of the recipient masked: servers often
// name it ("550 5.1.1 <bob@x>: User unknown") and errors end up in the log.
std::string WithoutAddress(std::string text, const std::string& rcpt);

// The Status for a mail the server refused with `reply` (not positive).
Status SmtpRefusal(const SmtpReply& reply, const std::string& rcpt);

// A mail whose reply never came because we stopped: not known to be delivered, so it
// stays pending and goes again (with the same Message-ID).
Status SmtpStoppedBeforeAnswer();

}  // namespace mailreqd
