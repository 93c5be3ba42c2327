#include "daemon/smtp_sender.h"

#include <cstring>
#include <memory>

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

// Keeps the server's last reply line, for the error a 5xx records.
size_t KeepLastLine(char* buf, size_t size, size_t n, void* user) {
  auto* last = static_cast<std::string*>(user);
  std::string line(buf, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0]))) *last = line;
  return size * n;
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
  std::string last_line;
  SList rcpts(curl_slist_append(nullptr, ("<" + rcpt + ">").c_str()), &curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, ("<" + from_addr + ">").c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, KeepLastLine);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &last_line);
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
  std::string why = last_line.empty() ? curl_easy_strerror(rc) : last_line;
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
