#include "daemon/smtp_sender.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>

#include "daemon/log.h"
#include "daemon/smtp_reply.h"

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

using SList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

}  // namespace

struct SmtpSender::Transfer {
  CURL* easy = nullptr;
  Source src{nullptr};
  Refusal refusal;
  SList rcpts{nullptr, &curl_slist_free_all};
  size_t index = 0;
  bool active = false;  // added to the multi handle, not finished
  bool fresh = false;  // the last transfer failed: do not reuse its connection
  CurlErrorText error;  // what libcurl said about the last transfer's failure
  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
  }
};

SmtpSender::SmtpSender(SmtpEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  url_ = endpoint_.url;
  if (url_.find('/', url_.find("://") + 3) == std::string::npos) url_ += "/" + endpoint_.helo_name;
  for (int i = 0; i < std::max(endpoint_.connections, 1); ++i) {
    transfers_.push_back(std::make_unique<Transfer>());
  }
}

SmtpSender::~SmtpSender() {
  if (grace_.deadline) {  // stopped, maybe on a wedged server: no QUIT, no waiting
    for (curl_socket_t s : sockets_) ::shutdown(s, SHUT_RDWR);
  }
  transfers_.clear();  // easy handles go before the multi handle that cached their connections
  if (multi_) curl_multi_cleanup(multi_);
}

Status SmtpSender::Send(const std::string& from_addr, const std::string& rcpt,
                        const std::string& raw) {
  Status result = Status::Transient("SMTP: not sent");
  SendAll(from_addr, {Envelope{&rcpt, &raw}}, nullptr, [&](size_t, const Status& s) {
    result = s;
    return true;
  }, [] {});
  return result;
}


void SmtpSender::Abandon(const SendDone& done) {
  for (auto& t : transfers_) {
    if (!t->active) continue;
    curl_multi_remove_handle(multi_, t->easy);
    t->active = false;
    t->fresh = true;
    done(t->index, SmtpStoppedBeforeAnswer());
  }
}

void SmtpSender::SendAll(const std::string& from_addr, const std::vector<Envelope>& mails,
                         const volatile bool* stop, const SendDone& done,
                         const SendSettled& settled) {
  if (mails.empty()) return;
  grace_ = SmtpStopGrace{stop, std::nullopt};
  if (mode_ == Mode::kUnknown && !ChooseMode(done, settled)) return;
  if (mode_ == Mode::kPipelined) {
    SendPipelined(from_addr, mails, stop, done, settled);
  } else {
    SendTransfers(from_addr, mails, stop, done, settled);
  }
}

void SmtpSender::SendTransfers(const std::string& from_addr, const std::vector<Envelope>& mails,
                               const volatile bool* stop, const SendDone& done,
                               const SendSettled& settled) {
  if (!multi_) {
    multi_ = curl_multi_init();
    if (multi_) {
      curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(transfers_.size()));
    }
  }
  if (!multi_) {
    for (size_t i = 0; i < mails.size(); ++i) {
      if (!done(i, Status::Transient("SMTP: curl_multi_init failed"))) break;
    }
    settled();
    return;
  }
  size_t next = 0;
  bool more = true;  // the caller still wants transfers started
  auto start_next = [&](Transfer& t) {
    if (!more || next >= mails.size() || (stop && *stop)) return;
    if (!Start(t, from_addr, mails[next], next)) {
      more = done(next, Status::Transient("SMTP: libcurl refused a transfer"));
    }
    ++next;
  };
  auto in_flight = [&] {
    return std::any_of(transfers_.begin(), transfers_.end(), [](auto& t) { return t->active; });
  };
  for (auto& t : transfers_) start_next(*t);
  settled();
  std::vector<Transfer*> finished;
  while (in_flight()) {
    if (grace_.Expired()) {
      Abandon(done);  // SIGTERM must not wait for a server that stopped answering
      settled();
      return;
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      CURLcode rc = m->data.result;  // read before the handle is removed
      curl_multi_remove_handle(multi_, t->easy);
      t->active = false;
      more = done(t->index, Finish(*t, rc, *mails[t->index].rcpt)) && more;
      finished.push_back(t);
    }
    if (!finished.empty()) {
      // The caller records what finished before anything new starts.
      settled();
      for (Transfer* t : finished) start_next(*t);
      finished.clear();
      settled();  // a transfer libcurl refused to start
    }
    if (in_flight()) curl_multi_poll(multi_, nullptr, 0, 200, nullptr);
  }
}

CURL* SmtpSender::NewHandle(Transfer& t) {
  CURL* h = curl_easy_init();
  if (!h) return nullptr;
  // What stays the same from mail to mail is set once: a handle keeps its options.
  curl_easy_setopt(h, CURLOPT_PRIVATE, &t);
  SetSmtpOptions(h, endpoint_, url_, &grace_, &sockets_);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(h, CURLOPT_READDATA, &t.src);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, KeepRefusal);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t.refusal);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(endpoint_.timeout_s * 4));
  return h;
}

bool SmtpSender::Start(Transfer& t, const std::string& from_addr, const Envelope& mail,
                       size_t index) {
  if (!t.easy) t.easy = NewHandle(t);
  if (!t.easy) return false;
  CURL* h = t.easy;
  t.index = index;
  t.src = Source{mail.raw};
  t.refusal = Refusal{};
  t.error.AttachTo(h);
  t.rcpts.reset(curl_slist_append(nullptr, ("<" + *mail.rcpt + ">").c_str()));
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, ("<" + from_addr + ">").c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, t.rcpts.get());
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.raw->size()));
  // A session that failed may be in a bad state: its next transfer starts a new one.
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, t.fresh ? 1L : 0L);
  t.fresh = false;
  t.active = curl_multi_add_handle(multi_, h) == CURLM_OK;
  return t.active;
}

Status SmtpSender::Finish(Transfer& t, CURLcode rc, const std::string& rcpt) {
  curl_easy_setopt(t.easy, CURLOPT_MAIL_RCPT, nullptr);
  if (rc == CURLE_OK) return Status::Ok();
  if (rc == CURLE_ABORTED_BY_CALLBACK) {  // stopping (OnProgress); not known to be delivered
    t.fresh = true;
    return SmtpStoppedBeforeAnswer();
  }
  long code = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  const Refusal& refusal = t.refusal;
  if (!refusal.line.empty()) code = std::strtol(refusal.line.c_str(), nullptr, 10);
  // A session that failed for now may be in a bad state: its next transfer starts anew.
  if (code == 0 || (code >= 400 && code < 500)) t.fresh = true;
  // The same rules as the pipelined way, on the line libcurl kept or on its own error.
  const std::string line = refusal.line.empty() ? t.error.Describe(rc) : refusal.line;
  return SmtpRefusal(SmtpReply{static_cast<int>(code), line}, rcpt);
}

}  // namespace mailreqd
