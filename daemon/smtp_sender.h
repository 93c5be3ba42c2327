// SmtpSender: the Sender port over libcurl's multi interface: up to `connections` replies
// in flight at once, each transfer on a kept-open connection (SMTP has no pipelining
// worth having, so a backlog is bounded by round trips; parallel sessions multiply the
// rate). STARTTLS is used whenever the server offers it, and required when
// `require_tls` is set; smtps:// is TLS from the start.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/ports.h"

namespace mailreqd {

struct SmtpEndpoint {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string helo_name = "mailreqd.localdomain";
  std::string username;
  std::string password;
  std::string ca_file;
  bool require_tls = false;
  int timeout_s = 30;
  int connections = 1;  // transfers in flight at once
};

class SmtpSender : public Sender {
 public:
  // Once `*stop` is seen, transfers in flight get a short grace, then are cut off.
  struct StopGrace {
    const volatile bool* stop = nullptr;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    bool Expired();  // sets the deadline the first time it sees the stop
  };

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
  StopGrace grace_;  // of the SendAll in progress
  std::set<curl_socket_t> sockets_;  // open connections' sockets (OpenSocket/CloseSocket)
};

}  // namespace mailreqd
