#include "daemon/smtp_pipe.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace mailreqd {
namespace {

bool Ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

void AppendDotStuffed(const std::string& raw, std::string& out) {
  out.reserve(out.size() + raw.size() + 8);
  size_t begin = 0;
  while (begin < raw.size()) {
    if (raw[begin] == '.') out.push_back('.');
    const void* nl = std::memchr(raw.data() + begin, '\n', raw.size() - begin);
    size_t end = nl ? static_cast<const char*>(nl) - raw.data() + 1 : raw.size();
    out.append(raw, begin, end - begin);
    begin = end;
  }
  if (!raw.empty() && raw.back() != '\n') out += "\r\n";
  out += ".\r\n";
}

bool SmtpPipe::CanBegin() const {
  return std::none_of(expected_.begin(), expected_.end(), [](const Expected& e) {
    return e.step == Step::kMail || e.step == Step::kRcpt || e.step == Step::kData;
  });
}

Status SmtpPipe::Begin(size_t index, const std::string& from, const Envelope& mail,
                       std::string& out) {
  for (const std::string* address : {&from, mail.rcpt}) {
    if (address->find_first_of(std::string_view("\r\n\0<>", 5)) != std::string::npos) {
      return Status::Permanent("SMTP: an address with a line break or angle bracket");
    }
  }
  out += "MAIL FROM:<" + from + ">";
  if (ext_.size) out += " SIZE=" + std::to_string(mail.raw->size());
  if (ext_.smtputf8 && !(Ascii(from) && Ascii(*mail.rcpt))) out += " SMTPUTF8";
  out += "\r\nRCPT TO:<" + *mail.rcpt + ">\r\nDATA\r\n";
  open_.push_back(Transaction{index, mail, std::nullopt});
  for (Step step : {Step::kMail, Step::kRcpt, Step::kData}) expected_.push_back({step, index});
  return Status::Ok();
}

bool SmtpPipe::OnReply(const SmtpReply& reply, std::string& out, std::vector<Finished>& finished) {
  if (expected_.empty() || reply.code == 0) return false;  // nothing asked, or not SMTP
  const Expected e = expected_.front();
  expected_.pop_front();
  Transaction* t = e.step == Step::kRset ? nullptr : Find(e.index);
  if (!t && e.step != Step::kRset) return false;
  switch (e.step) {
    case Step::kMail:
    case Step::kRcpt:
      if (!reply.positive() && !t->refused) t->refused = SmtpRefusal(reply, *t->mail.rcpt);
      break;
    case Step::kData:
      OnData(*t, reply, out, finished);
      break;
    case Step::kEnd:
      if (t->refused) {
        Finish(e.index, *t->refused, finished);
      } else {
        Finish(e.index, reply.positive() ? Status::Ok() : SmtpRefusal(reply, *t->mail.rcpt),
               finished);
      }
      break;
    case Step::kRset:
      if (!reply.positive()) return false;
      break;
  }
  return reply.code != 421;  // RFC 5321 §3.8: the server closes the channel after it
}

void SmtpPipe::OnData(Transaction& t, const SmtpReply& reply, std::string& out,
                      std::vector<Finished>& finished) {
  if (reply.code == 354) {
    // A server that takes DATA after refusing the MAIL or RCPT has no recipient for it:
    // an empty message ends the transaction, and the refusal stands.
    if (t.refused) {
      out += ".\r\n";
    } else {
      AppendDotStuffed(*t.mail.raw, out);
    }
    expected_.push_back({Step::kEnd, t.index});
    return;
  }
  const size_t index = t.index;
  Finish(index, t.refused ? *t.refused : SmtpRefusal(reply, *t.mail.rcpt), finished);
  // The MAIL may have been taken: without RSET the next MAIL would be "nested".
  out += "RSET\r\n";
  expected_.push_back({Step::kRset, index});
}

std::vector<size_t> SmtpPipe::Unfinished() const {
  std::vector<size_t> out;
  for (const auto& t : open_) out.push_back(t.index);
  return out;
}

SmtpPipe::Transaction* SmtpPipe::Find(size_t index) {
  for (auto& t : open_) {
    if (t.index == index) return &t;
  }
  return nullptr;
}

void SmtpPipe::Finish(size_t index, Status status, std::vector<Finished>& finished) {
  open_.erase(std::remove_if(open_.begin(), open_.end(),
                             [&](const Transaction& t) { return t.index == index; }),
              open_.end());
  finished.push_back(Finished{index, std::move(status)});
}

}  // namespace mailreqd
