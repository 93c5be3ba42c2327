// SmtpPipe: the mail transactions of one SMTP session, pipelined (RFC 2920). Pure: it
// writes commands into a buffer and reads replies handed to it; the caller does the I/O.
//
// Each mail costs one round trip instead of libcurl's four (MAIL, RCPT, DATA, end of
// data): a mail's content and its final "." go out together with the next mail's MAIL,
// RCPT and DATA, which RFC 2920 §3.1 allows, and their four replies come back together.
//
//   Begin(0)           ->  MAIL FROM, RCPT TO, DATA
//   354                ->  content of 0, "."      (CanBegin() is now true)
//   Begin(1)           ->  MAIL FROM, RCPT TO, DATA         (same write as the above)
//   250, 250, 250, 354 ->  0 finished; content of 1, "." ...
//
// A mail's content only ever goes out after every earlier mail's final reply has been
// read: the caller records those before it writes, so that a crash re-sends at most one
// mail per session. A refused MAIL or RCPT ends that mail with the refusal (the DATA that
// follows is refused too); a refused DATA is followed by RSET, so that the session is
// clean for the next mail.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "daemon/ports.h"
#include "daemon/smtp_reply.h"

namespace mailreqd {

struct SmtpExtensions {
  bool size = false;      // SIZE (RFC 1870): announce the size in MAIL FROM
  bool smtputf8 = false;  // SMTPUTF8 (RFC 6531): needed for a non-ASCII address
};

class SmtpPipe {
 public:
  struct Finished {
    size_t index = 0;
    Status status;
  };

  explicit SmtpPipe(SmtpExtensions ext) : ext_(ext) {}

  // True when another mail may begin: no mail is waiting for its DATA reply.
  bool CanBegin() const;
  // True when no reply is awaited.
  bool Idle() const { return expected_.empty(); }
  // Appends to `out` the commands that open mail `index`. `mail` must stay valid until
  // the mail is finished. Permanent, with nothing written, when an address could not be
  // sent as it is (a line break would end the command and start another).
  Status Begin(size_t index, const std::string& from, const Envelope& mail, std::string& out);
  // Applies the next reply: may append to `out` (content after 354, RSET after a refused
  // DATA) and to `finished`. False when the session cannot go on: the server is closing
  // (421) or said something no command asked for.
  bool OnReply(const SmtpReply& reply, std::string& out, std::vector<Finished>& finished);
  // The mails begun and not finished, in order: what a lost session leaves undecided.
  std::vector<size_t> Unfinished() const;

 private:
  enum class Step { kMail, kRcpt, kData, kEnd, kRset };
  struct Expected {
    Step step;
    size_t index;
  };
  struct Transaction {
    size_t index;
    Envelope mail;
    std::optional<Status> refused;  // the first refusal of its MAIL or RCPT
  };

  Transaction* Find(size_t index);
  void Finish(size_t index, Status status, std::vector<Finished>& finished);
  void OnData(Transaction& t, const SmtpReply& reply, std::string& out,
              std::vector<Finished>& finished);

  SmtpExtensions ext_;
  std::deque<Expected> expected_;  // replies to come, in the order they will come
  std::deque<Transaction> open_;   // begun, not finished (at most two)
};

// `raw` (CRLF line ends) as DATA content: lines starting with "." get another one
// (RFC 5321 §4.5.2), a missing final CRLF is added, and ".\r\n" ends it.
void AppendDotStuffed(const std::string& raw, std::string& out);

}  // namespace mailreqd
