// SmtpSender: the Sender port: up to `connections` SMTP sessions at once, each kept open
// from batch to batch. STARTTLS is used whenever the server offers it, and required when
// `require_tls` is set; smtps:// is TLS from the start.
//
// Two ways to send, chosen by the first session's EHLO reply:
// - the server offers PIPELINING (RFC 2920): our own transactions (SmtpPipe) over
//   libcurl's connected sessions, one round trip per mail per session;
// - it does not: libcurl's SMTP transfers through its multi interface, four round trips
//   per mail, as a server without pipelining needs.
// Either way a session has at most one mail whose content went out unanswered.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/ports.h"
#include "daemon/smtp_pipe.h"
#include "daemon/smtp_reply.h"
#include "daemon/smtp_session.h"

namespace mailreqd {

class SmtpSender : public Sender {
 public:
  explicit SmtpSender(SmtpEndpoint endpoint);
  ~SmtpSender() override;
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  Status Send(const std::string& from_addr, const std::string& rcpt,
              const std::string& raw) override;
  void SendAll(const std::string& from_addr, const std::vector<Envelope>& mails,
               const volatile bool* stop, const SendDone& done,
               const SendSettled& settled) override;

 private:
  struct Transfer;  // one easy handle and what its current message needs
  struct Pipeline {  // one pipelined session and its buffers
    Pipeline(const SmtpEndpoint& endpoint, const std::string& url, SmtpStopGrace* grace,
             SmtpSockets* sockets)
        : session(endpoint, url, grace, sockets) {}
    SmtpSession session;
    std::optional<SmtpPipe> pipe;  // while the session is open
    SmtpReplyReader reader;
    std::string out;  // written, not yet taken by the socket
    std::chrono::steady_clock::time_point heard;  // last reply, or when one was first awaited
  };
  enum class Mode { kUnknown, kPipelined, kTransfers };

  // Opens the first session and reads its EHLO reply; false when the server could not
  // be reached (mails[0] is reported with why).
  bool ChooseMode(const SendDone& done, const SendSettled& settled);
  void SendTransfers(const std::string& from_addr, const std::vector<Envelope>& mails,
                     const volatile bool* stop, const SendDone& done,
                     const SendSettled& settled);
  void SendPipelined(const std::string& from_addr, const std::vector<Envelope>& mails,
                     const volatile bool* stop, const SendDone& done,
                     const SendSettled& settled);
  Status OpenPipeline(Pipeline& p);

  // An easy handle for `t` with every option that does not change from mail to mail.
  CURL* NewHandle(Transfer& t);
  // Sets `t` up for `mail` and adds it to the multi handle; false when libcurl refuses.
  bool Start(Transfer& t, const std::string& from_addr, const Envelope& mail, size_t index);
  Status Finish(Transfer& t, CURLcode rc, const std::string& rcpt);
  // Drops the transfers still in flight, reporting each as not sent.
  void Abandon(const SendDone& done);

  SmtpEndpoint endpoint_;
  std::string url_;
  CURLM* multi_ = nullptr;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  SmtpStopGrace grace_;  // of the SendAll in progress
  SmtpSockets sockets_;  // open connections' sockets
  Mode mode_ = Mode::kUnknown;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace mailreqd
