#include "daemon/smtp_sender.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "daemon/log.h"

namespace mailreqd {
namespace {

struct Source {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadChunk(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<Source*>(user);
  size_t left = src->data->size() - src->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(buf, src->data->data() + src->offset, take);
  src->offset += take;
  return take;
}

// Keeps the server's first refusal (a 4xx/5xx reply, its last line when multi-line), for
// the error a failed send records. Later lines must not replace it: after a refusal
// libcurl ends the session, and "221 Bye" is not why the mail was refused.
struct Refusal {
  std::string line;
  bool complete = false;
};

size_t KeepRefusal(char* buf, size_t size, size_t n, void* user) {
  auto* refusal = static_cast<Refusal*>(user);
  std::string line(buf, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  bool coded = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
               std::isdigit(static_cast<unsigned char>(line[1])) &&
               std::isdigit(static_cast<unsigned char>(line[2]));
  if (!refusal->complete && coded && (line[0] == '4' || line[0] == '5')) {
    refusal->line = line;
    refusal->complete = line.size() == 3 || line[3] != '-';  // RFC 5321 §4.2.1
  }
  return size * n;
}

// The server's text often names the recipient ("550 5.1.1 <bob@x>: User unknown"). Errors
// end up in the log, which must not hold customers' addresses: mask it (the outbox row
// keeps the recipient in its own column).
std::string WithoutAddress(std::string text, const std::string& rcpt) {
  if (rcpt.empty()) return text;
  std::string lower = text, needle = rcpt;
  for (auto* s : {&lower, &needle}) {
    for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string masked = MaskAddress(rcpt);
  for (size_t p = lower.rfind(needle); p != std::string::npos;
       p = p == 0 ? std::string::npos : lower.rfind(needle, p - 1)) {
    text.replace(p, needle.size(), masked);
  }
  return text;
}

using SList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

}  // namespace

SmtpSender::SmtpSender(SmtpEndpoint endpoint) : endpoint_(std::move(endpoint)) {}
SmtpSender::~SmtpSender() {
  if (handle_) curl_easy_cleanup(handle_);
}

Status SmtpSender::Send(const std::string& from_addr, const std::string& rcpt,
                        const std::string& raw) {
  if (!handle_) handle_ = curl_easy_init();
  if (!handle_) return Status::Transient("SMTP: curl_easy_init failed");
  CURL* h = handle_;
  std::string url = endpoint_.url;
  if (url.find('/', url.find("://") + 3) == std::string::npos) url += "/" + endpoint_.helo_name;
  Source src{&raw};
  Refusal refusal;
  SList rcpts(curl_slist_append(nullptr, ("<" + rcpt + ">").c_str()), &curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, ("<" + from_addr + ">").c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, KeepRefusal);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &refusal);
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(endpoint_.require_tls ? CURLUSESSL_ALL
                                                                               : CURLUSESSL_TRY));
  if (!endpoint_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, endpoint_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, endpoint_.password.c_str());
  }
  if (!endpoint_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, endpoint_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(endpoint_.timeout_s));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(endpoint_.timeout_s * 4));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, nullptr);
  if (rc == CURLE_OK) return Status::Ok();
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  std::string why = refusal.line.empty() ? curl_easy_strerror(rc) : WithoutAddress(refusal.line, rcpt);
  if (!refusal.line.empty()) code = std::strtol(refusal.line.c_str(), nullptr, 10);
  // Decide on the SMTP code, not the CURLcode (NOTES-libraries.md §2): 5xx is final.
  if (code >= 500 && code < 600) return Status::Permanent("SMTP refused: " + why);
  if (code == 0 || code >= 400) {
    // A lost or refused connection may leave the handle in a bad state: start afresh.
    curl_easy_cleanup(handle_);
    handle_ = nullptr;
  }
  return Status::Transient("SMTP: " + why);
}

}  // namespace mailreqd
