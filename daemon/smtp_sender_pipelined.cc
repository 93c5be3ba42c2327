// SmtpSender's pipelined way: several SmtpSessions driven from one thread with poll(),
// each running its mail transactions through an SmtpPipe.
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "daemon/log.h"
#include "daemon/smtp_pipe.h"
#include "daemon/smtp_reply.h"
#include "daemon/smtp_sender.h"

namespace mailreqd {
namespace {

// A reply that never ends its line is not SMTP: the session is dropped past this.
constexpr size_t kMaxReplyBytes = 64 * 1024;
// How often a wait for replies looks at the stop flag.
constexpr int kPollMs = 200;

}  // namespace

Status SmtpSender::OpenPipeline(Pipeline& p) {
  p.pipe.reset();
  p.out.clear();
  p.reader = SmtpReplyReader{};
  Status s = p.session.Open();
  if (!s.ok()) return s;
  if (p.session.Has("PIPELINING")) {
    p.pipe.emplace(SmtpExtensions{p.session.Has("SIZE"), p.session.Has("SMTPUTF8")});
    return s;
  }
  // The server stopped offering it since the first session: the next batch chooses again.
  p.session.Close(false);
  mode_ = Mode::kUnknown;
  return Status::Transient("SMTP: the server no longer offers PIPELINING");
}

bool SmtpSender::ChooseMode(const SendDone& done, const SendSettled& settled) {
  if (pipelines_.empty()) {
    for (size_t i = 0; i < transfers_.size(); ++i) {
      pipelines_.push_back(std::make_unique<Pipeline>(endpoint_, url_, &grace_, &sockets_));
    }
  }
  // The first session only says what the server offers; sending opens its own.
  SmtpSession& first = pipelines_.front()->session;
  Status s = first.Open();
  if (!s.ok()) {
    done(0, s);  // like any failed connect: the outbox finds the server down
    settled();
    return false;
  }
  mode_ = first.Has("PIPELINING") ? Mode::kPipelined : Mode::kTransfers;
  first.Close(false);
  Log(LogLevel::kInfo, "smtp-connected",
      {{"pipelining", mode_ == Mode::kPipelined ? "yes" : "no"}});
  if (mode_ == Mode::kTransfers) pipelines_.clear();
  return true;
}

void SmtpSender::SendPipelined(const std::string& from_addr, const std::vector<Envelope>& mails,
                               const volatile bool* stop, const SendDone& done,
                               const SendSettled& settled) {
  size_t next = 0;
  bool more = true;        // the caller still wants mails begun
  bool unsettled = false;  // reported since the last settled()
  auto report = [&](size_t i, const Status& s) {
    more = done(i, s) && more;
    unsettled = true;
  };
  auto settle = [&] {
    if (unsettled) settled();
    unsettled = false;
  };
  auto drop = [&](Pipeline& p, const Status& why) {
    for (size_t i : p.pipe->Unfinished()) report(i, why);
    p.session.Close(true);
    p.pipe.reset();
  };
  auto stopping = [&] { return stop && *stop; };
  for (;;) {
    // What finished is recorded before anything more goes out: content included, which
    // an SmtpPipe only queues once the mail before it on that session has its reply.
    settle();
    for (auto& p : pipelines_) {
      if (!more || next >= mails.size() || stopping()) break;
      if (p->pipe && !p->pipe->CanBegin()) continue;
      if (p->pipe && p->pipe->Idle() && !p->session.StillOpen()) {
        p->session.Close(false);
        p->pipe.reset();
      }
      if (!p->pipe) {
        Status s = OpenPipeline(*p);
        if (!s.ok()) {
          report(next++, s);
          continue;
        }
      }
      const bool was_idle = p->pipe->Idle();
      Status begun = p->pipe->Begin(next, from_addr, mails[next], p->out);
      if (!begun.ok()) {
        report(next++, begun);
        continue;
      }
      if (was_idle) p->heard = std::chrono::steady_clock::now();
      ++next;
    }
    settle();  // a connect that failed
    for (auto& p : pipelines_) {
      if (p->pipe && !p->out.empty() && !p->session.Write(p->out)) {
        drop(*p,
             Status::Transient(std::string(kServerUnavailable) + "connection lost while sending"));
      }
    }
    const bool awaiting = std::any_of(pipelines_.begin(), pipelines_.end(),
                                      [](auto& p) { return p->pipe && !p->pipe->Idle(); });
    if (!awaiting) {
      if (!more || next >= mails.size() || stopping()) break;
      continue;
    }
    if (grace_.Expired()) {  // SIGTERM must not wait for a server that stopped answering
      for (auto& p : pipelines_) {
        if (p->pipe) drop(*p, SmtpStoppedBeforeAnswer());
      }
      break;
    }
    std::vector<pollfd> fds;
    std::vector<Pipeline*> polled;
    for (auto& p : pipelines_) {
      if (!p->pipe || p->pipe->Idle()) continue;
      fds.push_back(
          {p->session.socket(), static_cast<short>(POLLIN | (p->out.empty() ? 0 : POLLOUT)), 0});
      polled.push_back(p.get());
    }
    ::poll(fds.data(), fds.size(), kPollMs);
    const auto now = std::chrono::steady_clock::now();
    for (size_t k = 0; k < polled.size(); ++k) {
      Pipeline& p = *polled[k];
      if (fds[k].revents == 0) {
        if (now - p.heard > std::chrono::seconds(endpoint_.timeout_s)) {
          drop(p, Status::Transient(std::string(kServerUnavailable) + "no reply within " +
                                    std::to_string(endpoint_.timeout_s) + " s"));
        }
        continue;
      }
      std::string in;
      const bool alive = p.session.Read(in);
      std::vector<SmtpReply> replies;
      p.reader.Feed(in, replies);
      if (!in.empty()) p.heard = now;
      std::vector<SmtpPipe::Finished> finished;
      std::string why;  // why the session cannot go on
      for (const auto& r : replies) {
        if (!p.pipe->OnReply(r, p.out, finished)) {
          why = r.line.empty() ? "reply without a code" : r.line;
          break;
        }
      }
      for (auto& f : finished) report(f.index, f.status);
      if (why.empty() && !alive) why = "connection closed";
      if (why.empty() && p.reader.buffered() > kMaxReplyBytes) why = "reply line too long";
      if (!why.empty()) drop(p, Status::Transient(std::string(kServerUnavailable) + why));
    }
  }
  settle();
}

}  // namespace mailreqd
