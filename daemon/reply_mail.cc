// Reply messages: header values sanitized and encoded in code, bodies in 7bit or
// quoted-printable. String appends only (no regex, no streams): a reply costs microseconds.
#include "daemon/reply_mail.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "daemon/random_bytes.h"

namespace mailreqd {
namespace {

constexpr size_t kFoldAt = 78;        // RFC 5322 §2.1.1: SHOULD be at most 78 characters
constexpr size_t kWordPayload = 42;   // UTF-8 octets per encoded word: 56 base64 chars
constexpr size_t kMaxPlainWord = 68;  // longer ASCII words are encoded so they can fold
constexpr size_t kMaxBodyLine7bit = 76;
constexpr size_t kQpLineBudget = 75;  // RFC 2045 §6.7 rule 5: 76 with the soft-break "="
constexpr size_t kMaxMessageIdBytes = 250;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 character at s[i] (its code point in *cp), or 0 if invalid.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = s[i];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t v = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// Characters some reader could take as a line break or that have no business in a header:
// C0, DEL, C1 (incl. NEL U+0085) and the Unicode line/paragraph separators.
bool IsHeaderBreaking(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

// See the header: controls -> space, one space between words, valid UTF-8, cut to `max`.
std::string SanitizeHeaderText(std::string_view in, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(in.size(), max_bytes));
  for (size_t i = 0; i < in.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(in, i, &cp);
    std::string_view ch = len == 0 ? kReplacement : in.substr(i, len);
    i += len == 0 ? 1 : len;
    bool space = len != 0 && (cp == ' ' || IsHeaderBreaking(cp));
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    if (out.size() + ch.size() > max_bytes) break;
    out.append(ch);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

// RFC 2047 §2, §5: "=?UTF-8?B?...?=" words of at most kWordPayload octets each, cut on
// character boundaries (§5 rule: each word must hold whole characters), joined by spaces
// (§6.2: a reader drops the space between adjacent encoded words).
std::string EncodeWords(std::string_view utf8) {
  std::string out;
  size_t start = 0;
  while (start < utf8.size()) {
    size_t end = start;
    while (end < utf8.size()) {
      uint32_t cp = 0;
      size_t len = std::max<size_t>(1, DecodeUtf8(utf8, end, &cp));
      if (end + len - start > kWordPayload) break;
      end += len;
    }
    if (!out.empty()) out.push_back(' ');
    out += "=?UTF-8?B?" + Base64(utf8.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

bool NeedsEncoding(std::string_view s) {
  if (s.find("=?") != std::string_view::npos) return true;
  size_t word = 0;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7F) return true;
    word = c == ' ' ? 0 : word + 1;
    if (word > kMaxPlainWord) return true;
  }
  return false;
}

// "Name: value" + CRLF, folded at spaces (RFC 5322 §2.2.3: CRLF goes before existing white
// space, so unfolding gives the value back exactly). A word longer than a line stays whole;
// callers make sure none exceeds the 998-octet limit.
std::string FoldHeader(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ':';
  size_t line_len = out.size();
  size_t start = 0;
  while (start <= value.size() && !value.empty()) {
    size_t end = std::min(value.find(' ', start), value.size());
    std::string_view word = value.substr(start, end - start);
    if (line_len + 1 + word.size() > kFoldAt && line_len > name.size() + 1) {
      out += "\r\n";
      line_len = 0;
    }
    out += ' ';
    out += word;
    line_len += 1 + word.size();
    start = end + 1;
  }
  out += "\r\n";
  return out;
}

bool IsAtext(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c == '.' || IsAtext(c); });
}

bool IsValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.') return false;
  if (d.find("..") != std::string_view::npos) return false;
  return std::all_of(d.begin(), d.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

// RFC 5322 §3.6.4 msg-id content "id-left@id-right", narrowed to dot-atom text on both
// sides; "=?" is refused so that no reader decodes part of it.
bool IsValidMessageId(std::string_view id) {
  size_t at = id.rfind('@');
  if (id.empty() || id.size() > kMaxMessageIdBytes || at == std::string_view::npos) return false;
  if (id.find("=?") != std::string_view::npos) return false;
  return IsDotAtom(id.substr(0, at)) && IsDotAtom(id.substr(at + 1));
}

// Words of atext separated by single spaces can go out as an RFC 5322 phrase unquoted.
bool IsAtomPhrase(std::string_view s) {
  if (s.find("=?") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c == ' ' || IsAtext(c); });
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
}

std::string QuotedString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A mailbox for From or To (RFC 5322 §3.4): the display name as an atom phrase, a quoted
// string when that fits on the line, else encoded words. "=?" is never left readable, and
// a name holding "@", "<" or ">" is encoded so that not even a naive parser sees a second
// address in it.
std::string FormatMailbox(std::string_view field, std::string_view display, std::string_view addr) {
  std::string name = SanitizeHeaderText(display, kMaxDisplayNameBytes);
  std::string angle = "<" + std::string(addr) + ">";
  if (name.empty()) return std::string(addr);
  std::string phrase;
  if (IsAtomPhrase(name) && !NeedsEncoding(name)) {
    phrase = name;
  } else if (IsPrintableAscii(name) && name.find_first_of("@<>") == std::string::npos &&
             name.find("=?") == std::string::npos &&
             field.size() + 2 + name.size() + 3 + angle.size() <= kFoldAt) {
    phrase = QuotedString(name);
  } else {
    phrase = EncodeWords(name);
  }
  return phrase + " " + angle;
}

struct Mailbox {
  std::string name;
  std::string addr;
};

// "Name <addr>", "\"Name\" <addr>" or "addr"; the address is validated by the caller.
Mailbox ParseMailbox(std::string_view s) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
  };
  s = trim(s);
  size_t lt = s.rfind('<');
  if (s.empty() || s.back() != '>' || lt == std::string_view::npos) return {"", std::string(s)};
  Mailbox m{"", std::string(s.substr(lt + 1, s.size() - lt - 2))};
  std::string_view name = trim(s.substr(0, lt));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) ++i;
      m.name.push_back(name[i]);
    }
  } else {
    m.name = std::string(name);
  }
  return m;
}

// RFC 5322 §3.3 date-time, always in UTC; fixed English names, no locale.
std::string FormatDate(int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

// References = request's References + its Message-ID (RFC 5322 §3.6.4), invalid ids
// dropped, capped to the first one and the newest kMaxReferences - 1.
std::vector<std::string_view> ReferenceChain(const ReplyHeaders& h) {
  std::vector<std::string_view> ids;
  for (const std::string& r : h.references) {
    if (IsValidMessageId(r)) ids.push_back(r);
  }
  if (IsValidMessageId(h.in_reply_to) && (ids.empty() || ids.back() != h.in_reply_to)) {
    ids.push_back(h.in_reply_to);
  }
  if (ids.size() > kMaxReferences) {
    ids.erase(ids.begin() + 1, ids.end() - (kMaxReferences - 1));
  }
  return ids;
}

// Body lines without their ends; "\r\n", "\n" and a lone "\r" all end a line (a lone CR
// is not allowed in a message, RFC 5322 §2.3).
std::vector<std::string_view> BodyLines(std::string_view body) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\n' && body[i] != '\r') continue;
    lines.push_back(body.substr(start, i - start));
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < body.size()) lines.push_back(body.substr(start));
  return lines;
}

bool Fits7bit(const std::vector<std::string_view>& lines) {
  return std::all_of(lines.begin(), lines.end(), [](std::string_view l) {
    return l.size() <= kMaxBodyLine7bit && std::all_of(l.begin(), l.end(), [](unsigned char c) {
             return (c >= 0x20 && c < 0x7F) || c == '\t';
           });
  });
}

// RFC 2045 §6.7: "=" and non-printables as =XX, white space at a line end as =XX, soft line
// breaks keep every line within 76 octets. Escapes are never split across a soft break.
void AppendQuotedPrintable(std::string_view line, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Written through a pointer into space reserved for the worst case (every octet escaped,
  // a soft break at most every 73 output octets): string::push_back per octet was most of
  // the cost.
  size_t old_size = out.size();
  out.resize(old_size + line.size() * 3 + (line.size() / 24 + 1) * 3 + 2);
  char* p = out.data() + old_size;
  size_t col = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = line[i];
    bool last = i + 1 == line.size();
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    size_t width = literal ? 1 : 3;
    if (col + width > kQpLineBudget) {
      *p++ = '=', *p++ = '\r', *p++ = '\n';
      col = 0;
    }
    if (literal) {
      *p++ = static_cast<char>(c);
    } else {
      *p++ = '=', *p++ = kHex[c >> 4], *p++ = kHex[c & 15];
    }
    col += width;
  }
  *p++ = '\r', *p++ = '\n';
  out.resize(p - out.data());
}

}  // namespace

bool IsValidAddress(std::string_view addr) {
  size_t at = addr.rfind('@');
  if (addr.size() > 254 || at == std::string_view::npos || at > 64) return false;
  return IsDotAtom(addr.substr(0, at)) && IsValidDomain(addr.substr(at + 1));
}

std::string AddressOf(std::string_view mailbox) {
  Mailbox m = ParseMailbox(mailbox);
  return IsValidAddress(m.addr) ? m.addr : std::string();
}

std::string EncodeHeaderWords(const std::string& utf8) {
  return NeedsEncoding(utf8) ? EncodeWords(utf8) : utf8;
}

namespace {

void AppendHex(uint64_t value, int digits, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 15]);
  }
}

uint64_t RandomBits() {
  uint64_t bits = 0;
  if (!RandomBytes(&bits, sizeof bits)) {
    // getrandom never fails on Linux >= 3.17 once seeded; stay unique if it ever does.
    static std::atomic<uint64_t> counter{0};
    bits ^= (static_cast<uint64_t>(getpid()) << 32) ^ ++counter;
  }
  return bits;
}

}  // namespace

// The outbox's UNIQUE index on message_id is written with every reply. Random ids land
// on a random page of it each, so a chunk's commit rewrote most of that index (and
// more of it the larger the outbox); ids that start with the time in microseconds
// append to its last page. The 64 random bits keep ids from two daemons, or two
// replies in one microsecond, apart.
std::string NewMessageId(const std::string& domain) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  std::string id;
  id.reserve(64);
  AppendHex(static_cast<uint64_t>(micros), 14, id);
  id.push_back('.');
  AppendHex(RandomBits(), 16, id);
  return id + "@" + (IsValidDomain(domain) ? domain : "mailreqd.invalid");
}

Status ReplyHeadersError(const ReplyHeaders& h) {
  if (!IsValidAddress(ParseMailbox(h.from).addr))
    return Status::Permanent("reply: invalid From address");
  if (!IsValidAddress(h.to)) return Status::Permanent("reply: invalid recipient address");
  if (!IsValidMessageId(h.message_id)) return Status::Permanent("reply: invalid Message-ID");
  return Status::Ok();
}

std::string BuildReplyMail(const ReplyHeaders& h, const std::string& body_utf8) {
  if (!ReplyHeadersError(h).ok()) return std::string();
  Mailbox from = ParseMailbox(h.from);
  std::string m;
  m.reserve(1024 + body_utf8.size() * 3);
  m += FoldHeader("From", FormatMailbox("From", from.name, from.addr));
  m += FoldHeader("To", FormatMailbox("To", h.to_name, h.to));
  m += FoldHeader("Subject", EncodeHeaderWords(SanitizeHeaderText(h.subject, kMaxSubjectBytes)));
  m += "Date: " + FormatDate(h.date) + "\r\n";
  m += "Message-ID: <" + h.message_id + ">\r\n";
  if (IsValidMessageId(h.in_reply_to)) m += "In-Reply-To: <" + h.in_reply_to + ">\r\n";
  std::vector<std::string_view> refs = ReferenceChain(h);
  if (!refs.empty()) {
    std::string value;
    for (std::string_view r : refs) value += (value.empty() ? "<" : " <") + std::string(r) + ">";
    m += FoldHeader("References", value);
  }
  // RFC 3834 §5: marks the reply as automatic so that other responders do not answer it.
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";

  std::vector<std::string_view> lines = BodyLines(body_utf8);
  bool plain = Fits7bit(lines);
  m += plain ? "Content-Transfer-Encoding: 7bit\r\n"
             : "Content-Transfer-Encoding: quoted-printable\r\n";
  m += "X-Mailreqd: auto-reply\r\n\r\n";
  for (std::string_view line : lines) {
    if (plain) {
      m.append(line);
      m += "\r\n";
    } else {
      AppendQuotedPrintable(line, m);
    }
  }
  return m;
}

}  // namespace mailreqd
