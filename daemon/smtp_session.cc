#include "daemon/smtp_session.h"

#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "daemon/ports.h"

namespace mailreqd {
namespace {

// How long what is in flight may still take once SIGTERM came (systemd's stop timeout
// is 90 s; a wedged server could otherwise hold us for the whole curl timeout).
constexpr std::chrono::seconds kStopGrace{10};

// libcurl waits for some replies inside its own calls (the end of DATA in a transfer,
// the connect of a session), where only its progress callback is called: that is where
// a stop must be able to cut in.
int OnProgress(void* grace, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<SmtpStopGrace*>(grace)->Expired() ? 1 : 0;
}

curl_socket_t OpenSocket(void* sockets, curlsocktype, curl_sockaddr* a) {
  curl_socket_t s = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  if (s != CURL_SOCKET_BAD) static_cast<SmtpSockets*>(sockets)->insert(s);
  return s;
}

int CloseSocket(void* sockets, curl_socket_t s) {
  static_cast<SmtpSockets*>(sockets)->erase(s);
  return ::close(s);
}

std::string FirstWordUpper(const std::string& line) {
  const size_t end = line.find(' ', 4);
  std::string word = line.substr(4, end == std::string::npos ? end : end - 4);
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

}  // namespace

bool SmtpStopGrace::Expired() {
  if (!stop || !*stop) return false;
  auto now = std::chrono::steady_clock::now();
  if (!deadline) deadline = now + kStopGrace;
  return now > *deadline;
}

void SetSmtpOptions(CURL* h, const SmtpEndpoint& endpoint, const std::string& url,
                    SmtpStopGrace* grace, SmtpSockets* sockets) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_USE_SSL,
                   static_cast<long>(endpoint.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (!endpoint.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, endpoint.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, endpoint.password.c_str());
  }
  if (!endpoint.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, endpoint.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(endpoint.timeout_s));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // One unanswered command may take timeout_s, not the whole transfer's budget.
  curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, static_cast<long>(endpoint.timeout_s));
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, grace);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, sockets);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, CloseSocket);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, sockets);
}

SmtpSession::SmtpSession(const SmtpEndpoint& endpoint, std::string url, SmtpStopGrace* grace,
                         SmtpSockets* sockets)
    : endpoint_(endpoint), url_(std::move(url)), grace_(grace), sockets_(sockets) {}

SmtpSession::~SmtpSession() { Close(grace_->deadline.has_value()); }

Status SmtpSession::Open() {
  Close(false);
  handle_ = curl_easy_init();
  if (!handle_) return Status::Transient(std::string(kServerUnavailable) + "curl_easy_init failed");
  SetSmtpOptions(handle_, endpoint_, url_, grace_, sockets_);
  curl_easy_setopt(handle_, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT, static_cast<long>(endpoint_.timeout_s));
  curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle_, CURLOPT_HEADERDATA, this);
  ehlo_.clear();
  greetings_ = 0;
  error_.AttachTo(handle_);
  const CURLcode rc = curl_easy_perform(handle_);
  if (rc == CURLE_OK) {
    plain_ = !UsesTls();
    return Status::Ok();
  }
  Close(true);
  return Status::Transient(std::string(kServerUnavailable) + error_.Describe(rc));
}

void SmtpSession::Close(bool cut) {
  if (!handle_) return;
  if (cut) {
    curl_socket_t s = socket();
    if (s != CURL_SOCKET_BAD) ::shutdown(s, SHUT_RDWR);
  }
  curl_easy_cleanup(handle_);
  handle_ = nullptr;
}

// Every reply line libcurl reads while it connects comes here. A greeting (220, also the
// one that starts TLS) begins a new session state: what counts is the last EHLO reply.
size_t SmtpSession::OnHeader(char* buf, size_t size, size_t n, void* self) {
  auto* session = static_cast<SmtpSession*>(self);
  std::string line(buf, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("220", 0) == 0) {
    session->ehlo_.clear();
    ++session->greetings_;
  }
  if (line.size() > 4 && line.rfind("250", 0) == 0) session->ehlo_.push_back(FirstWordUpper(line));
  return size * n;
}

// libcurl's CURLINFO_TLS_SSL_PTR tells nothing for a CONNECT_ONLY handle (NULL even
// over smtps://), so the session says it: smtps://, or a second 220, the answer to
// STARTTLS. A multi-line greeting counts twice too, which only costs the shortcut.
bool SmtpSession::UsesTls() const {
  const char* scheme = nullptr;
  curl_easy_getinfo(handle_, CURLINFO_SCHEME, &scheme);
  return greetings_ > 1 || (scheme && strcasecmp(scheme, "smtps") == 0);
}

bool SmtpSession::Has(const std::string& keyword) const {
  return std::find(ehlo_.begin(), ehlo_.end(), keyword) != ehlo_.end();
}

curl_socket_t SmtpSession::socket() const {
  curl_socket_t s = CURL_SOCKET_BAD;
  if (handle_) curl_easy_getinfo(handle_, CURLINFO_ACTIVESOCKET, &s);
  return s;
}

bool SmtpSession::Write(std::string& out) {
  size_t off = 0;
  while (off < out.size()) {
    size_t n = 0;
    const CURLcode rc = curl_easy_send(handle_, out.data() + off, out.size() - off, &n);
    if (rc == CURLE_AGAIN) break;
    if (rc != CURLE_OK) return false;
    off += n;
  }
  out.erase(0, off);
  return true;
}

bool SmtpSession::StillOpen() {
  pollfd pfd{socket(), POLLIN, 0};
  if (pfd.fd == CURL_SOCKET_BAD) return false;
  if (::poll(&pfd, 1, 0) == 0) return true;
  char byte = 0;
  size_t n = 0;
  return curl_easy_recv(handle_, &byte, 1, &n) == CURLE_AGAIN;
}

bool SmtpSession::Read(std::string& in) {
  char chunk[16384];
  for (;;) {
    size_t n = 0;
    const CURLcode rc = curl_easy_recv(handle_, chunk, sizeof chunk, &n);
    if (rc == CURLE_AGAIN) return true;
    if (rc != CURLE_OK || n == 0) return false;  // n == 0: the server closed
    in.append(chunk, n);
    // On plain TCP a short read took all there was: asking again only hears EAGAIN
    // (one wasted recv per reply, 10,000 per drain). TLS may hold records back that
    // the socket no longer shows, so there the loop goes on until EAGAIN.
    if (plain_ && n < sizeof chunk) return true;
  }
}

}  // namespace mailreqd
