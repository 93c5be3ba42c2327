// SmtpSender: the Sender port over one reused libcurl SMTP handle (the connection stays
// open across replies). STARTTLS is used whenever the server offers it, and required
// when `require_tls` is set; smtps:// is TLS from the start.
#pragma once

#include <curl/curl.h>

#include <string>

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
};

class SmtpSender : public Sender {
 public:
  explicit SmtpSender(SmtpEndpoint endpoint);
  ~SmtpSender() override;
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  Status Send(const std::string& from_addr, const std::string& rcpt,
              const std::string& raw) override;

 private:
  SmtpEndpoint endpoint_;
  CURL* handle_ = nullptr;
};

}  // namespace mailreqd
