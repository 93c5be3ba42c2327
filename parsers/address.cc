// Address-list parsing (RFC 5322 §3.4, obsolete forms of §4.4 tolerated). A small scanner
// tracks quotes, comments and angle brackets so that commas, colons and semicolons are
// only structure where the RFC says they are.
#include "parsers/address.h"

#include <string>

#include "parsers/charset.h"
#include "parsers/encoded_words.h"

namespace mailreqd {
namespace {

constexpr size_t kMaxAddress = 320;  // RFC 3696 errata: 64 + 1 + 255

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Index just past the quoted string or comment opening at s[i] (unterminated: s.size()).
size_t SkipQuoted(std::string_view s, size_t i) {
  if (s[i] == '"') {
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\') ++i;
    }
    return std::min(i + 1, s.size());
  }
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '(') ++depth;
    else if (s[i] == ')' && --depth == 0) return i + 1;
  }
  return s.size();
}

// Splits at top-level "," and ";", dropping group names ("name:" outside <> and quotes).
std::vector<std::string_view> SplitMailboxes(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool in_angle = false;
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '"' || c == '(') {
      i = SkipQuoted(s, i);
      continue;
    }
    if (c == '<') in_angle = true;
    if (c == '>') in_angle = false;
    if (!in_angle && (c == ',' || c == ';')) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    } else if (!in_angle && c == ':') {
      start = i + 1;  // RFC 5322 §3.4 group: display-name ":" [group-list] ";"
    }
    ++i;
  }
  out.push_back(s.substr(start));
  return out;
}

std::string CollapseSpaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A display name: quotes and escapes removed, comments dropped (their text goes to
// *comment), encoded words decoded (RFC 2047 §5 (3); inside quotes too, as mailers do).
std::string Phrase(std::string_view s, std::string* comment) {
  std::string raw;
  for (size_t i = 0; i < s.size();) {
    size_t end = (s[i] == '"' || s[i] == '(') ? SkipQuoted(s, i) : i + 1;
    if (s[i] == '"' || s[i] == '(') {
      std::string inner;
      for (size_t k = i + 1; k < end && !(k + 1 == end && (s[k] == '"' || s[k] == ')')); ++k) {
        if (s[k] == '\\' && k + 1 < end) ++k;
        inner.push_back(s[k]);
      }
      if (s[i] == '"') raw += inner;
      else if (comment && comment->empty()) *comment = inner;
    } else {
      raw.push_back(s[i]);
    }
    i = end;
  }
  return CollapseSpaces(DecodeEncodedWords(raw));
}

// Accepts local@domain, a quoted local part, or a bare local part ("MAILER-DAEMON").
bool PlausibleAddress(std::string_view a) {
  if (a.empty() || a.size() > kMaxAddress) return false;
  int ats = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(a[i]);
    if (c == '"') {
      i = SkipQuoted(a, i) - 1;
      continue;
    }
    if (c <= 32 || c == 127 || std::string_view("<>(),;:\\[]").find(c) != std::string_view::npos)
      return false;
    if (c == '@') ++ats;
  }
  return ats <= 1 && a.front() != '@' && a.back() != '@';
}

// The address inside <...>: comments and spaces removed, source route dropped (§4.4).
std::string AngleAddr(std::string_view inner) {
  std::string a;
  for (size_t i = 0; i < inner.size();) {
    if (inner[i] == '(') {
      i = SkipQuoted(inner, i);
      continue;
    }
    if (inner[i] == '"') {
      size_t end = SkipQuoted(inner, i);
      a.append(inner.substr(i, end - i));
      i = end;
      continue;
    }
    if (!IsSpace(inner[i])) a.push_back(inner[i]);
    ++i;
  }
  if (!a.empty() && a[0] == '@' && a.find(':') != std::string::npos) a.erase(0, a.find(':') + 1);
  return a;
}

// Text without <>: an addr-spec, or (broken mailers) "Big Bug bb@bug.com": the first
// word with an "@" is the address and the other words the name. "Foo Bar" is a name only.
void BareMailbox(const std::string& bare, Address* a) {
  if (PlausibleAddress(bare)) {
    a->addr = MakeValidUtf8(bare);
    return;
  }
  std::string name;
  for (size_t i = 0; i < bare.size();) {
    size_t end = std::min(bare.find(' ', i), bare.size());
    std::string_view word = std::string_view(bare).substr(i, end - i);
    if (a->addr.empty() && word.find('@') != word.npos && PlausibleAddress(word)) {
      a->addr = MakeValidUtf8(word);
    } else if (word.find('@') == word.npos) {
      name += (name.empty() ? "" : " ") + std::string(word);
    }
    i = end + 1;
  }
  a->name = a->addr.empty() ? bare : name;
}

size_t TopLevelAngle(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '"' || s[i] == '(') {
      i = SkipQuoted(s, i);
    } else if (s[i] == '<') {
      return i;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}

Address Mailbox(std::string_view s) {
  Address a;
  std::string comment;
  size_t lt = TopLevelAngle(s);
  if (lt != std::string_view::npos) {
    size_t gt = s.find('>', lt);
    std::string addr = AngleAddr(s.substr(lt + 1, gt == s.npos ? s.npos : gt - lt - 1));
    a.name = Phrase(s.substr(0, lt), &comment);
    if (PlausibleAddress(addr)) a.addr = MakeValidUtf8(addr);
    if (a.name.empty() && gt != s.npos) a.name = Phrase(s.substr(gt + 1), &comment);
  } else {
    BareMailbox(Phrase(s, &comment), &a);
  }
  if (a.name.empty()) a.name = CollapseSpaces(DecodeEncodedWords(comment));
  return a;
}

}  // namespace

std::vector<Address> ParseAddressList(std::string_view value) {
  std::vector<Address> out;
  std::vector<std::string_view> parts = SplitMailboxes(value);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (CollapseSpaces(part).empty()) continue;
    Address a = Mailbox(part);
    bool has_angle = part.find('<') != std::string_view::npos;
    // Unquoted "Doe, John <j@x>" (a common mailer bug): the name-only piece before the
    // comma belongs to the next mailbox. Both views point into `value`, so join them.
    if (part.find('@') == std::string_view::npos && !has_angle && i + 1 < parts.size() &&
        parts[i + 1].find('<') != std::string_view::npos) {
      parts[i + 1] = value.substr(part.data() - value.data(),
                                  parts[i + 1].data() + parts[i + 1].size() - part.data());
      continue;
    }
    if (!a.addr.empty() || !a.name.empty() || has_angle) out.push_back(std::move(a));
  }
  return out;
}

Address ParseAddress(std::string_view value) {
  std::vector<Address> list = ParseAddressList(value);
  return list.empty() ? Address{} : std::move(list.front());
}

}  // namespace mailreqd
