// RFC 2047 decoder. Real mail breaks the RFC often (long words, spaces inside Q text,
// words glued to text), so parsing is lenient but every scan is bounded: a 10 MB header of
// "=?" fragments is decoded in linear time.
#include "parsers/encoded_words.h"

#include <optional>

#include "parsers/charset.h"
#include "parsers/mime_adapter.h"
#include "parsers/quoted_printable.h"

namespace mailreqd {
namespace {

constexpr size_t kMaxCharsetLength = 75;   // RFC 2047 §2 caps the whole word at 75
constexpr size_t kMaxEncodedText = 4096;   // lenient cap on text between "?X?" and "?="

struct EncodedWord {
  std::string_view charset;
  char encoding = 'Q';  // 'B' or 'Q'
  std::string_view text;
  size_t end = 0;  // index just past "?="
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsAllSpace(std::string_view s) {
  for (char c : s) {
    if (!IsSpace(c)) return false;
  }
  return true;
}

// RFC 2047 §4.2: "_" is a space, "=XX" a byte; anything malformed stays as written.
std::string DecodeQ(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    int hi = -1, lo = -1;
    if (t[i] == '=' && i + 2 < t.size()) {
      hi = HexValue(t[i + 1]);
      lo = HexValue(t[i + 2]);
    }
    if (hi >= 0 && lo >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(t[i] == '_' ? ' ' : t[i]);
    }
  }
  return out;
}

// Finds words left to right. Remembers where the next "?=" is so that a header made of
// thousands of unterminated "=?" starts does not rescan the rest of the line each time.
class WordScanner {
 public:
  explicit WordScanner(std::string_view s) : s_(s) {}

  // The encoded word starting at `pos` (where s_ has "=?"), or nullopt.
  std::optional<EncodedWord> At(size_t pos) {
    size_t q1 = s_.find('?', pos + 2);
    if (q1 == std::string_view::npos || q1 - pos - 2 > kMaxCharsetLength || q1 == pos + 2)
      return std::nullopt;
    EncodedWord w;
    w.charset = s_.substr(pos + 2, q1 - pos - 2);
    if (q1 + 2 >= s_.size() || s_[q1 + 2] != '?') return std::nullopt;
    char e = s_[q1 + 1];
    if (e != 'B' && e != 'b' && e != 'Q' && e != 'q') return std::nullopt;
    w.encoding = (e == 'B' || e == 'b') ? 'B' : 'Q';
    size_t text = q1 + 3;
    size_t close = NextClose(text);
    if (close == std::string_view::npos || close - text > kMaxEncodedText) return std::nullopt;
    for (char c : w.charset) {
      if (IsSpace(c) || c == '=') return std::nullopt;
    }
    w.text = s_.substr(text, close - text);
    w.end = close + 2;
    return w;
  }

 private:
  size_t NextClose(size_t from) {
    if (close_ == std::string_view::npos - 1 || (close_ != std::string_view::npos && close_ < from))
      close_ = s_.find("?=", from);
    return close_;
  }

  std::string_view s_;
  size_t close_ = std::string_view::npos - 1;  // not searched yet
};

// Collects output; holds back the bytes of a run of same-charset words until it ends.
class Output {
 public:
  bool HasPending() const { return !charset_.empty(); }
  void Literal(std::string_view raw) {
    Flush();
    out_ += MakeValidUtf8(raw);
  }
  void Word(const EncodedWord& w) {
    std::string bytes = w.encoding == 'B' ? DecodeBase64(w.text) : DecodeQ(w.text);
    if (!SameCharset(w.charset)) {
      Flush();
      charset_ = std::string(w.charset);
    }
    pending_ += bytes;
  }
  std::string Finish() {
    Flush();
    return std::move(out_);
  }

 private:
  bool SameCharset(std::string_view c) const {
    if (c.size() != charset_.size()) return false;
    for (size_t i = 0; i < c.size(); ++i) {
      if ((c[i] | 0x20) != (charset_[i] | 0x20)) return false;
    }
    return true;
  }
  void Flush() {
    if (!HasPending()) return;
    out_ += ToUtf8(pending_, charset_);
    pending_.clear();
    charset_.clear();
  }

  std::string out_, pending_, charset_;
};

}  // namespace

std::string Unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
    if (c == '\n' && i + 1 < value.size() && (value[i + 1] == ' ' || value[i + 1] == '\t'))
      continue;
    out.push_back(c == '\r' || c == '\n' ? ' ' : c);  // a stray break is not a fold
  }
  return out;
}

std::string DecodeEncodedWords(std::string_view value) {
  const std::string unfolded = Unfold(value);
  const std::string_view s = unfolded;
  WordScanner scanner(s);
  Output out;
  size_t literal = 0;  // start of the text not yet written
  for (size_t i = s.find("=?"); i != std::string_view::npos; i = s.find("=?", i)) {
    std::optional<EncodedWord> w = scanner.At(i);
    if (!w) {
      i += 2;
      continue;
    }
    std::string_view gap = s.substr(literal, i - literal);
    if (!(out.HasPending() && IsAllSpace(gap))) out.Literal(gap);  // RFC 2047 §6.2
    out.Word(*w);
    i = literal = w->end;
  }
  out.Literal(s.substr(literal));
  return out.Finish();
}

}  // namespace mailreqd
