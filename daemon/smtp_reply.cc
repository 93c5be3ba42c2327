#include "daemon/smtp_reply.h"

#include <cctype>

#include "daemon/log.h"
#include "daemon/ports.h"

namespace mailreqd {
namespace {

bool Digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

int CodeOf(std::string_view line) {
  if (line.size() < 3 || !Digit(line[0]) || !Digit(line[1]) || !Digit(line[2])) return 0;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

// RFC 5321 §4.2.1: "250-" continues a reply; "250 " or a bare "250" ends it.
bool LastLine(std::string_view line) { return line.size() == 3 || line[3] != '-'; }

}  // namespace

void SmtpReplyReader::Feed(std::string_view bytes, std::vector<SmtpReply>& out) {
  partial_.append(bytes);
  size_t begin = 0;
  for (size_t nl = partial_.find('\n'); nl != std::string::npos;
       begin = nl + 1, nl = partial_.find('\n', begin)) {
    std::string_view line(partial_.data() + begin, nl - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const int code = CodeOf(line);
    if (code != 0 && !LastLine(line)) continue;
    out.push_back(SmtpReply{code, std::string(line)});
  }
  partial_.erase(0, begin);
}

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

Status SmtpRefusal(const SmtpReply& reply, const std::string& rcpt) {
  const std::string why = WithoutAddress(reply.line, rcpt);
  // Decide on the SMTP code (NOTES-libraries.md §2): 5xx is final.
  if (reply.code >= 500 && reply.code < 600) return Status::Permanent("SMTP refused: " + why);
  // No code at all, or 421 (RFC 5321 §3.8: the service is closing the channel): the
  // server is down for every mail, not refusing this one.
  if (reply.code == 0 || reply.code == 421) return Status::Transient(kServerUnavailable + why);
  return Status::Transient("SMTP: " + why);
}

Status SmtpStoppedBeforeAnswer() {
  return Status::Transient("SMTP: stopped before the server answered");
}

}  // namespace mailreqd
