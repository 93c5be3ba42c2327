#include "daemon/imap_connection.h"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <ctime>

namespace mailreqd {
namespace {

constexpr size_t kMaxLineBytes = 1u << 20;         // a protocol line, literals aside
constexpr uint64_t kMaxLiteralBytes = 64ull << 20;  // larger than any message we accept

bool StartsWithNoCase(const std::string& s, const char* prefix) {
  size_t n = std::strlen(prefix);
  return s.size() >= n && strncasecmp(s.data(), prefix, n) == 0;
}

// "... {123}" or "... {123+}" at the end of a line -> 123, else -1.
int64_t TrailingLiteral(const std::string& line) {
  if (line.empty() || line.back() != '}') return -1;
  size_t open = line.rfind('{');
  if (open == std::string::npos) return -1;
  std::string n = line.substr(open + 1, line.size() - open - 2);
  if (!n.empty() && n.back() == '+') n.pop_back();
  if (n.empty() || n.size() > 12 || !std::all_of(n.begin(), n.end(), ::isdigit)) return -1;
  return std::stoll(n);
}

// "* 12 EXISTS" (RFC 3501 §7.3.1).
bool IsExists(const std::string& line) {
  if (line.rfind("* ", 0) != 0) return false;
  size_t p = 2;
  while (p < line.size() && std::isdigit(static_cast<unsigned char>(line[p]))) ++p;
  return p > 2 && StartsWithNoCase(line.substr(p), " EXISTS");
}

}  // namespace

ImapConnection::ImapConnection(ImapEndpoint endpoint) : endpoint_(std::move(endpoint)) {}
ImapConnection::~ImapConnection() { Close(); }

void ImapConnection::Close() {
  if (handle_) curl_easy_cleanup(handle_);
  handle_ = nullptr;
  buffer_.clear();
  pos_ = 0;
}

Status ImapConnection::Fail(const std::string& what) {
  Close();
  return Status::Transient("IMAP " + what);
}

Status ImapConnection::Connect() {
  Close();
  handle_ = curl_easy_init();
  if (!handle_) return Status::Transient("IMAP: curl_easy_init failed");
  std::string url = endpoint_.url;
  // The mailbox path is ours to SELECT; libcurl only connects and logs in.
  auto slash = url.find('/', url.find("://") + 3);
  if (slash != std::string::npos) url.resize(slash);
  curl_easy_setopt(handle_, CURLOPT_URL, (url + "/").c_str());
  curl_easy_setopt(handle_, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(handle_, CURLOPT_USERNAME, endpoint_.username.c_str());
  std::string bearer;
  if (!endpoint_.bearer_file.empty()) {
    std::ifstream in(endpoint_.bearer_file, std::ios::binary);
    std::getline(in, bearer);
    while (!bearer.empty() && (bearer.back() == '\r' || bearer.back() == ' ')) bearer.pop_back();
    if (bearer.empty()) {
      Close();
      return Status::Transient("IMAP: no OAuth2 token in " + endpoint_.bearer_file);
    }
  }
  if (!bearer.empty()) {
    curl_easy_setopt(handle_, CURLOPT_XOAUTH2_BEARER, bearer.c_str());
  } else {
    curl_easy_setopt(handle_, CURLOPT_PASSWORD, endpoint_.password.c_str());
  }
  if (url.rfind("imap://", 0) == 0 && endpoint_.require_tls) {
    curl_easy_setopt(handle_, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!endpoint_.ca_file.empty()) curl_easy_setopt(handle_, CURLOPT_CAINFO, endpoint_.ca_file.c_str());
  if (endpoint_.insecure) {
    curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT, static_cast<long>(endpoint_.timeout_s));
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  error_.AttachTo(handle_);
  CURLcode rc = curl_easy_perform(handle_);
  if (rc != CURLE_OK) {
    Status s = rc == CURLE_LOGIN_DENIED
                   ? Status::Transient("IMAP login refused: " + error_.Describe(rc))
                   : Status::Transient("IMAP connect: " + error_.Describe(rc));
    Close();
    return s;
  }
  auto caps = Command("CAPABILITY");
  if (!caps.ok()) return caps.status();
  caps_.clear();
  for (const auto& line : caps->untagged) {
    if (!StartsWithNoCase(line.text, "* CAPABILITY ")) continue;
    std::string rest = line.text.substr(13);
    size_t p = 0;
    while (p < rest.size()) {
      size_t e = rest.find(' ', p);
      if (e == std::string::npos) e = rest.size();
      std::string cap = rest.substr(p, e - p);
      std::transform(cap.begin(), cap.end(), cap.begin(), ::toupper);
      caps_.push_back(cap);
      p = e + 1;
    }
  }
  return Status::Ok();
}

bool ImapConnection::Has(const std::string& cap) const {
  return std::find(caps_.begin(), caps_.end(), cap) != caps_.end();
}

Status ImapConnection::SendAll(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    size_t n = 0;
    CURLcode rc = curl_easy_send(handle_, data.data() + off, data.size() - off, &n);
    if (rc == CURLE_AGAIN) {
      curl_socket_t fd;
      curl_easy_getinfo(handle_, CURLINFO_ACTIVESOCKET, &fd);
      pollfd p{static_cast<int>(fd), POLLOUT, 0};
      if (poll(&p, 1, endpoint_.timeout_s * 1000) <= 0) return Fail("send timed out");
      continue;
    }
    if (rc != CURLE_OK) return Fail(std::string("send: ") + curl_easy_strerror(rc));
    off += n;
  }
  return Status::Ok();
}

Status ImapConnection::Fill(int timeout_ms) {
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  }
  char chunk[64 * 1024];
  for (;;) {
    size_t n = 0;
    // Read before polling: TLS may hold decrypted bytes the socket no longer shows.
    CURLcode rc = curl_easy_recv(handle_, chunk, sizeof chunk, &n);
    if (rc == CURLE_OK) {
      if (n == 0) return Fail("connection closed by the server");
      buffer_.append(chunk, n);
      return Status::Ok();
    }
    if (rc != CURLE_AGAIN) return Fail(std::string("recv: ") + curl_easy_strerror(rc));
    curl_socket_t fd;
    curl_easy_getinfo(handle_, CURLINFO_ACTIVESOCKET, &fd);
    pollfd p{static_cast<int>(fd), POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) return Status::Transient("IMAP timeout");  // caller decides: IDLE expects it
    if (r < 0 && errno != EINTR) return Fail("poll failed");
  }
}

Result<ImapLine> ImapConnection::ReadLine(int timeout_ms) {
  ImapLine line;
  for (;;) {
    size_t eol = buffer_.find("\r\n", pos_);
    if (eol == std::string::npos) {
      if (buffer_.size() - pos_ > kMaxLineBytes) return Fail("line too long");
      // Consumed bytes go before each read: the buffer then holds about one read (64 KB)
      // plus a partial line, instead of up to a megabyte that stays allocated.
      if (pos_ > (64u << 10)) {
        buffer_.erase(0, pos_);
        pos_ = 0;
      }
      Status s = Fill(timeout_ms);
      if (!s.ok()) return s;
      continue;
    }
    line.text.append(buffer_, pos_, eol - pos_);
    pos_ = eol + 2;
    int64_t literal = TrailingLiteral(line.text);
    if (literal < 0) return line;
    if (static_cast<uint64_t>(literal) > kMaxLiteralBytes) return Fail("literal too large");
    std::string data;
    data.reserve(literal);
    while (data.size() < static_cast<size_t>(literal)) {
      if (pos_ == buffer_.size()) {
        Status s = Fill(endpoint_.timeout_s * 1000);
        if (!s.ok()) return s.transient() && connected() ? Fail("timeout in a literal") : s;
      }
      size_t take = std::min(buffer_.size() - pos_, static_cast<size_t>(literal) - data.size());
      data.append(buffer_, pos_, take);
      pos_ += take;
    }
    line.literals.push_back(std::move(data));
  }
}

Result<ImapReply> ImapConnection::Command(const std::string& command, const UntaggedSink& sink) {
  auto tag = Send(command);
  if (!tag.ok()) return tag.status();
  return Await(*tag, sink);
}

Result<std::string> ImapConnection::Send(const std::string& command) {
  if (!handle_) return Status::Transient("IMAP not connected");
  std::string tag = "m" + std::to_string(++tag_);
  Status s = SendAll(tag + " " + command + "\r\n");
  if (!s.ok()) return s;
  ++commands_sent_;
  return tag;
}

Result<ImapReply> ImapConnection::Await(const std::string& tag, const UntaggedSink& sink) {
  if (!handle_) return Status::Transient("IMAP not connected");
  ImapReply reply;
  for (;;) {
    auto line = ReadLine(endpoint_.timeout_s * 1000);
    if (!line.ok()) return connected() ? Fail("timeout waiting for " + tag) : line.status();
    if (line->text.compare(0, tag.size() + 1, tag + " ") == 0) {
      std::string rest = line->text.substr(tag.size() + 1);
      size_t sp = rest.find(' ');
      reply.status = rest.substr(0, sp);
      reply.text = sp == std::string::npos ? "" : rest.substr(sp + 1);
      std::transform(reply.status.begin(), reply.status.end(), reply.status.begin(), ::toupper);
      return reply;
    }
    if (StartsWithNoCase(line->text, "* BYE")) return Fail("server said " + line->text);
    if (IsExists(line->text)) exists_seen_ = true;
    if (sink) {
      sink(*line);
    } else {
      reply.untagged.push_back(std::move(*line));
    }
  }
}

bool ImapConnection::TakeExistsSeen() {
  bool seen = exists_seen_;
  exists_seen_ = false;
  return seen;
}

Result<bool> ImapConnection::Idle(int seconds, const volatile bool* stop) {
  if (!handle_) return Status::Transient("IMAP not connected");
  std::string tag = "m" + std::to_string(++tag_);
  Status s = SendAll(tag + " IDLE\r\n");
  if (!s.ok()) return s;
  ++commands_sent_;
  bool announced = false;  // untagged news may come before the continuation
  for (;;) {
    auto line = ReadLine(endpoint_.timeout_s * 1000);
    if (!line.ok()) return connected() ? Fail("no answer to IDLE") : line.status();
    if (line->text.rfind("+", 0) == 0) break;
    if (line->text.rfind("* ", 0) != 0) return Fail("IDLE refused: " + line->text);
    announced = announced || IsExists(line->text);
  }
  auto got = announced ? Result<bool>(true) : IdleLoop(seconds, stop);
  if (!got.ok()) return got;
  s = SendAll("DONE\r\n");
  if (!s.ok()) return s;
  for (;;) {  // drain to the tagged reply; EXISTS seen here counts too
    auto line = ReadLine(endpoint_.timeout_s * 1000);
    if (!line.ok()) return connected() ? Fail("no answer to DONE") : line.status();
    if (line->text.rfind(tag + " ", 0) == 0) return *got;
    if (IsExists(line->text)) *got = true;
  }
}

Result<bool> ImapConnection::IdleLoop(int seconds, const volatile bool* stop) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline && !(stop && *stop)) {
    auto line = ReadLine(1000);
    if (!line.ok()) {
      if (connected()) continue;  // one quiet second
      return line.status();
    }
    // RFC 2177: EXISTS announces new mail; RECENT alone is not enough on every server.
    if (IsExists(line->text)) return true;
    if (StartsWithNoCase(line->text, "* BYE")) return Fail("server ended IDLE: " + line->text);
  }
  return false;
}

std::string ImapQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

int64_t ParseInternalDate(const std::string& s) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int d, y, hh, mm, ss, zone;
  char mon[4] = {0};
  if (std::sscanf(s.c_str(), " %d-%3s-%d %d:%d:%d %d", &d, mon, &y, &hh, &mm, &ss, &zone) != 7) {
    return -1;
  }
  int m = -1;
  for (int i = 0; i < 12; ++i) {
    if (strcasecmp(mon, kMonths[i]) == 0) m = i;
  }
  if (m < 0) return -1;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m;
  tm.tm_mday = d;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  int64_t utc = timegm(&tm);
  int sign = zone < 0 ? -1 : 1;
  int az = zone * sign;
  return utc - sign * ((az / 100) * 3600 + (az % 100) * 60);
}

std::string UidSet(std::vector<uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  std::string out;
  for (size_t i = 0; i < uids.size();) {
    size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] <= uids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(uids[i]);
    if (uids[j] != uids[i]) out += ":" + std::to_string(uids[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace mailreqd
