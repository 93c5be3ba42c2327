// See mime_adapter.h for why the tree is split here and only the codecs come from mimetic.
#include "parsers/mime_adapter.h"

#include <mimetic/codec/base64.h>
#include <mimetic/codec/code.h>
#include <mimetic/codec/qp.h>
#include <string.h>  // memmem, a GNU extension

#include <algorithm>
#include <array>
#include <exception>
#include <iterator>

#include "parsers/charset.h"
#include "parsers/quoted_printable.h"

namespace mailreqd {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsWsp(s.front()) || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (IsWsp(s.back()) || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// One physical line: [start, end) without its line break; next = start of the next line.
struct Line {
  std::string_view text;
  size_t next;
};

Line LineAt(std::string_view s, size_t pos) {
  size_t nl = s.find('\n', pos);
  size_t end = nl == std::string_view::npos ? s.size() : nl;
  size_t next = nl == std::string_view::npos ? s.size() : nl + 1;
  std::string_view text = s.substr(pos, end - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return {text, next};
}

// RFC 5322 §3.6.8: field-name is printable US-ASCII except ":". Whitespace before the
// colon is tolerated ("Subject : x"); inside the name it is not, so a body line such as
// "Dear sir: hello" is not mistaken for a field.
bool FieldName(std::string_view line, std::string_view* name) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view n = line.substr(0, colon);
  while (!n.empty() && IsWsp(n.back())) n.remove_suffix(1);
  if (n.empty()) return false;
  for (char c : n) {
    if (c <= 32 || c >= 127) return false;
  }
  *name = n;
  return true;
}

// Finds the CRs and LFs of a value left to right; remembers the next of each so that a
// value with thousands of folds is still scanned once.
class BreakFinder {
 public:
  explicit BreakFinder(std::string_view s) : s_(s), cr_(Find('\r', 0)), lf_(Find('\n', 0)) {}
  // Position of the first CR or LF at or after `from`, or s.size().
  size_t Next(size_t from) {
    if (cr_ < from) cr_ = Find('\r', from);
    if (lf_ < from) lf_ = Find('\n', from);
    return std::min(cr_, lf_);
  }

 private:
  size_t Find(char c, size_t from) const { return std::min(s_.find(c, from), s_.size()); }

  std::string_view s_;
  size_t cr_, lf_;
};

// Unfolds the raw value (RFC 5322 §2.2.3), trims it and cuts it at `max_value` bytes.
// Copies the text between line breaks in whole pieces, not byte by byte.
std::string FieldValue(std::string_view raw, size_t max_value, bool* cut) {
  std::string v;
  raw = Trim(raw);
  *cut = raw.size() > max_value;
  v.reserve(std::min(raw.size(), max_value));
  BreakFinder breaks(raw);
  for (size_t i = 0; i < raw.size() && v.size() < max_value;) {
    size_t brk = breaks.Next(i);
    v.append(raw.substr(i, std::min(brk - i, max_value - v.size())));
    i = brk + 1;
  }
  return MakeValidUtf8Owned(std::move(v));
}

}  // namespace

std::string_view HeaderBlock::Get(std::string_view lower_name) const {
  for (const HeaderField& f : fields) {
    if (f.name == lower_name) return f.value;
  }
  return {};
}

namespace {

// Reads a header block line by line, keeping the open field's raw span until it ends.
class HeaderReader {
 public:
  HeaderReader(std::string_view e, size_t max_value) : e_(e), max_value_(max_value) {}

  HeaderBlock Read() {
    size_t pos = e_.substr(0, 5) == "From " ? LineAt(e_, 0).next : 0;  // mbox separator
    while (pos < e_.size()) {
      Line line = LineAt(e_, pos);
      if (line.text.empty()) return Finish(pos, line.next);
      std::string_view name;
      if (IsWsp(line.text[0]) && open_) {  // RFC 5322 §2.2.3 folded continuation
        pos = line.next;
      } else if (!open_ && block_.fields.empty() && Indent(line.text) == line.text.size()) {
        block_.defects.push_back("blank-looking line before the header skipped");
        pos = line.next;
      } else if (FieldName(line.text.substr(Indent(line.text)), &name)) {
        Close(pos);
        if (IsWsp(line.text[0])) block_.defects.push_back("header field starts with space");
        Open(name, pos + line.text.find(':') + 1);
        pos = line.next;
      } else if (open_ && LooksLikeHeader(line.next)) {
        block_.defects.push_back("header line without colon joined to previous field");
        pos = line.next;
      } else {
        block_.defects.push_back("header line without colon; rest read as body");
        return Finish(pos, pos);
      }
    }
    return Finish(e_.size(), e_.size());
  }

 private:
  static size_t Indent(std::string_view t) {
    size_t n = 0;
    while (n < t.size() && IsWsp(t[n])) ++n;
    return n;
  }
  bool LooksLikeHeader(size_t pos) const {
    if (pos >= e_.size()) return false;
    std::string_view t = LineAt(e_, pos).text, name;
    return !t.empty() && (IsWsp(t[0]) || FieldName(t, &name));
  }
  void Open(std::string_view name, size_t value_start) {
    open_ = true;
    name_ = name;
    value_start_ = value_start;
  }
  void Close(size_t end) {
    if (!open_) return;
    open_ = false;
    bool cut = false;
    std::string value = FieldValue(e_.substr(value_start_, end - value_start_), max_value_, &cut);
    // Top-level headers have 10-50 fields (Received, DKIM...): growing from one moved
    // every field several times.
    if (block_.fields.empty()) block_.fields.reserve(16);
    block_.fields.push_back({LowerCopy(name_), std::move(value)});
    if (cut) block_.defects.push_back("header " + block_.fields.back().name + " cut to limit");
  }
  HeaderBlock Finish(size_t header_end, size_t body_start) {
    Close(header_end);
    block_.body = e_.substr(body_start);
    return std::move(block_);
  }

  std::string_view e_;
  size_t max_value_;
  HeaderBlock block_;
  bool open_ = false;
  std::string_view name_;
  size_t value_start_ = 0;
};

}  // namespace

HeaderBlock SplitHeaderBlock(std::string_view e, size_t max_value) {
  return HeaderReader(e, max_value).Read();
}

std::string ContentType::Param(const std::string& lower_name) const {
  auto it = params.find(lower_name);
  return it == params.end() ? "" : it->second;
}

namespace {

// Skips whitespace and RFC 5322 comments "(...)" (nested, with \-escapes).
size_t SkipCfws(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (IsWsp(s[i]) || s[i] == '\r' || s[i] == '\n') {
      ++i;
    } else if (s[i] == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '(') ++depth;
        else if (s[i] == ')' && --depth == 0) break;
      }
      ++i;
    } else {
      break;
    }
  }
  // An escape or comment left open at the end steps past it: never return beyond the end
  // (callers take substr from here; found by the fuzzer).
  return std::min(i, s.size());
}

// A token (up to a tspecial, RFC 2045 §5.1) or a quoted string starting at i.
std::string ReadValue(std::string_view s, size_t* i) {
  std::string out;
  if (*i < s.size() && s[*i] == '"') {
    for (++*i; *i < s.size() && s[*i] != '"'; ++*i) {
      if (s[*i] == '\\' && *i + 1 < s.size()) ++*i;
      out.push_back(s[*i]);
    }
    ++*i;
    return out;
  }
  while (*i < s.size() && s[*i] != ';' && s[*i] != '(' && !IsWsp(s[*i])) out.push_back(s[(*i)++]);
  return out;
}

void ReadParams(std::string_view s, size_t i, ContentType* ct) {
  while (i < s.size()) {
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) return;
    i = SkipCfws(s, semi + 1);
    size_t eq = s.find_first_of("=;", i);
    if (eq == std::string_view::npos || s[eq] == ';') continue;
    std::string name = LowerCopy(Trim(s.substr(i, eq - i)));
    i = SkipCfws(s, eq + 1);
    std::string value = ReadValue(s, &i);
    if (!name.empty()) ct->params.emplace(std::move(name), std::move(value));
  }
}

}  // namespace

ContentType ParseContentType(std::string_view value) {
  ContentType ct;
  size_t i = SkipCfws(value, 0);
  size_t end = value.find_first_of(";( \t", i);
  std::string_view full = value.substr(i, end == std::string_view::npos ? value.npos : end - i);
  size_t slash = full.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == full.size()) return ct;
  ct.type = LowerCopy(Trim(full.substr(0, slash)));
  ct.subtype = LowerCopy(Trim(full.substr(slash + 1)));
  ct.present = true;
  ReadParams(value, i + full.size(), &ct);
  return ct;
}

std::string DispositionType(std::string_view value) {
  size_t i = SkipCfws(value, 0);
  size_t end = value.find_first_of(";( \t", i);
  return LowerCopy(value.substr(i, end == std::string_view::npos ? value.npos : end - i));
}

namespace {

// body.find(needle, from) by glibc's memmem, which skips ahead by hashing byte pairs:
// string_view::find stops at every "\n" (the needle's first byte), i.e. at every line of
// every attachment.
size_t Find(std::string_view body, std::string_view needle, size_t from) {
  if (from > body.size()) return std::string_view::npos;
  const void* hit = memmem(body.data() + from, body.size() - from, needle.data(), needle.size());
  return hit ? static_cast<size_t>(static_cast<const char*>(hit) - body.data())
             : std::string_view::npos;
}

// Position of the next delimiter line "--boundary" at or after `from` that is a whole
// line (RFC 2046 §5.1.1: only whitespace may follow, or "--" for the close delimiter).
// `needle` is "\n--boundary", so each candidate compare stops at the next line break.
size_t FindDelimiter(std::string_view body, std::string_view needle, size_t from) {
  std::string_view delim = needle.substr(1);
  size_t p = from;
  if (from == 0 && body.substr(0, delim.size()) == delim) p = 0;
  else if ((p = Find(body, needle, from == 0 ? 0 : from - 1)) != std::string_view::npos) ++p;
  while (p != std::string_view::npos) {
    size_t after = p + delim.size();
    std::string_view rest = LineAt(body, std::min(after, body.size())).text;
    if (rest.substr(0, 2) == "--" || Trim(rest).empty()) return p;
    p = Find(body, needle, after);
    if (p != std::string_view::npos) ++p;
  }
  return std::string_view::npos;
}

// The line break that precedes a delimiter belongs to it (RFC 2046 §5.1.1).
size_t ContentEnd(std::string_view body, size_t delimiter, size_t start) {
  size_t end = delimiter;
  if (end > start && body[end - 1] == '\n') --end;
  if (end > start && body[end - 1] == '\r') --end;
  return end;
}

}  // namespace

MultipartBody SplitMultipart(std::string_view body, std::string_view boundary,
                             size_t max_parts) {
  MultipartBody out;
  const std::string needle = "\n--" + std::string(boundary);
  const std::string_view delim = std::string_view(needle).substr(1);
  size_t d = FindDelimiter(body, needle, 0);
  while (d != std::string_view::npos) {
    if (body.substr(d + delim.size(), 2) == "--") {
      out.closed = true;
      break;
    }
    if (out.parts.size() >= max_parts) {
      out.truncated = true;
      break;
    }
    size_t start = LineAt(body, d).next;
    size_t next = FindDelimiter(body, needle, start);
    size_t end = next == std::string_view::npos ? body.size() : ContentEnd(body, next, start);
    out.parts.push_back(body.substr(start, end - start));
    d = next;
  }
  return out;
}

std::string DecodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  try {
    mimetic::Base64::Decoder decoder;
    mimetic::decode(text.begin(), text.end(), decoder, std::back_inserter(out));
  } catch (const std::exception&) {  // mimetic does not document throwing; be safe
  }
  return out;
}

std::string DecodeQuotedPrintable(std::string_view body) {
  if (auto fast = DecodeWellFormedQuotedPrintable(body)) return std::move(*fast);
  return DecodeQuotedPrintableWithMimetic(body);
}

std::string DecodeQuotedPrintableWithMimetic(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  try {
    mimetic::QP::Decoder decoder;
    mimetic::decode(body.begin(), body.end(), decoder, std::back_inserter(out));
  } catch (const std::exception&) {
  }
  return out;
}

bool IsIdentityTransfer(std::string_view encoding) {
  std::string mechanism = LowerCopy(Trim(encoding));
  return mechanism != "base64" && mechanism != "quoted-printable";
}

std::string DecodeTransfer(std::string_view encoding, std::string_view body) {
  std::string mechanism = LowerCopy(Trim(encoding));
  if (mechanism == "base64") return DecodeBase64(body);
  if (mechanism != "quoted-printable") return std::string(body);  // 7bit, 8bit, binary
  return DecodeQuotedPrintable(body);
}

}  // namespace mailreqd
