#include "parsers/quoting.h"

#include <span>
#include <vector>

#include "parsers/keywords.h"

namespace mailreqd {
namespace {

// Lines at most this far below a "From:" line are read to recognise a header block.
constexpr int kHeaderBlockLookahead = 5;

std::string_view Trim(std::string_view s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\r'; };
  while (!s.empty() && !not_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && !not_space(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool Contains(std::string_view s, std::string_view p) { return s.find(p) != s.npos; }

// The line as compared: full-width folded, lower-case, trimmed, without the "*" that
// HTML-to-text leaves around bold labels ("*From:* x").
std::string Normalized(std::string_view line) {
  std::string out = FoldWidth(Trim(line), true);
  std::erase(out, '*');
  return out;
}

// Whether the line is quoted with a plain ">" (after indentation and any "*"): then
// Normalized(line) starts with '>' too, and the line is skipped without building that
// copy. Quoted history is often most of a mail's lines. Full-width forms ("＞", "＊")
// are left to Normalized.
bool PlainQuoted(std::string_view line) {
  const std::string_view t = Trim(line);
  const std::size_t first = t.find_first_not_of('*');
  return first != t.npos && t[first] == '>';
}

bool IsHanAttribution(std::string_view n) {
  return EndsWith(n, "写道:") || EndsWith(n, "寫道:") || EndsWith(n, "寫道") || EndsWith(n, "写道");
}

// "On ... wrote:", "Am ... schrieb X <a@b>:", "Le ... a écrit :", "El ... escribió:".
bool IsLatinAttributionEnd(std::string_view n) {
  if (n.empty() || n.back() != ':') return false;
  return Contains(n, "wrote") || Contains(n, "schrieb") || Contains(n, "a écrit") ||
         Contains(n, "escribió");
}

bool IsSeparator(std::string_view n) {
  if (n.size() >= 8 && n.find_first_not_of('_') == n.npos) return true;  // Outlook
  if (StartsWith(n, "begin forwarded message")) return true;             // Apple Mail
  if (!StartsWith(n, "---") && !StartsWith(n, "___")) return false;
  return Contains(n, "original message") || Contains(n, "forwarded message") ||
         Contains(n, "原始邮件") || Contains(n, "原始郵件") || Contains(n, "邮件原件") ||
         Contains(n, "郵件原件") || Contains(n, "转发邮件") || Contains(n, "轉寄郵件");
}

bool StartsAnyOf(std::string_view n, std::span<const std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (StartsWith(n, p)) return true;
  }
  return false;
}

constexpr std::string_view kHeaderBlockStarts[] = {
    "from:", "发件人:", "發件人:", "寄件者:", "寄件人:"};
constexpr std::string_view kHeaderBlockFields[] = {
    "sent:", "date:", "to:",   "subject:", "cc:",     "发送时间:", "發送時間:", "寄件日期:",
    "日期:", "时间:", "時間:", "收件人:",  "收件者:", "主题:",     "主題:",     "主旨:"};

bool IsHeaderBlockStart(std::string_view n) { return StartsAnyOf(n, kHeaderBlockStarts); }

bool IsHeaderBlockField(std::string_view n) { return StartsAnyOf(n, kHeaderBlockFields); }

// False when Normalized(line) can neither start nor end the way a line that Run skips or
// stops at does (quoted, separator, attribution, header block start): most lines are
// ordinary text, and they are kept without building the normalized copy. Decided on raw
// bytes, conservatively: a first or last byte that FoldWidth may change (the E3 and EF
// leads) or that the '*' erasure may hide counts as "maybe".
bool MayBeMarker(std::string_view line) {
  const std::string_view t = Trim(line);
  const std::size_t first = t.find_first_not_of('*');
  if (first == t.npos) return false;  // Normalized is empty
  const auto b = static_cast<unsigned char>(t[first]);
  const char lower = static_cast<char>(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
  if (b == 0xE3 || b == 0xEF || lower == '>' || lower == '-' || lower == '_' || lower == 'b') {
    return true;  // full-width forms, quotes, separators, "begin forwarded message"
  }
  for (std::string_view p : kHeaderBlockStarts) {
    if (lower == p[0]) return true;
  }
  // The ends Run looks for: ':' (attributions), and the last bytes of "：" (EF BC 9A),
  // "道" (E9 81 93) and "＊" (EF BC 8A, erased like '*', which uncovers what precedes it).
  const auto last = static_cast<unsigned char>(t[t.find_last_not_of('*')]);
  return last == ':' || last == 0x9A || last == 0x93 || last == 0x8A;
}

class WordsCutter {
 public:
  explicit WordsCutter(std::string_view body) {
    for (std::size_t pos = 0; pos <= body.size();) {
      std::size_t nl = body.find('\n', pos);
      if (nl == body.npos) nl = body.size();
      lines_.push_back(body.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }

  std::string Run() {
    std::vector<std::string_view> kept;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      std::string_view line = lines_[i];
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line == "-- " || line == "--") break;  // RFC 3676 §4.3 signature separator
      if (PlainQuoted(line)) continue;
      if (!MayBeMarker(line)) {
        kept.push_back(line);
        continue;
      }
      const std::string n = Normalized(line);
      if (!n.empty() && n[0] == '>') continue;  // RFC 3676 §4.5 quoted line
      if (IsSeparator(n)) break;
      if (IsHanAttribution(n) || (IsLatinAttributionEnd(n) && IsAttribution(n, i, kept))) {
        // Gmail wraps long attributions: drop the "On ..." half already kept.
        if (!kept.empty() && StartsWith(Normalized(kept.back()), "on ")) kept.pop_back();
        // Quoted with ">": the customer may answer below or between the quotes (bottom
        // posting), so read on. Unmarked quoted text follows: stop here.
        if (QuoteFollows(i)) continue;
        break;
      }
      if (IsHeaderBlockStart(n) && HeaderBlockFollows(i)) break;
      kept.push_back(line);
    }
    while (!kept.empty() && Trim(kept.back()).empty()) kept.pop_back();
    return Join(kept);
  }

 private:
  // A "... wrote:" line is an attribution, not the customer's "as I wrote:", when it
  // reads "On ...", names an address, continues a wrapped "On ..." line, or quoted
  // lines follow it.
  bool IsAttribution(std::string_view n, std::size_t i,
                     const std::vector<std::string_view>& kept) const {
    if (StartsWith(n, "on ") || Contains(n, "@")) return true;
    if (!kept.empty() && StartsWith(Normalized(kept.back()), "on ")) return true;
    return QuoteFollows(i);
  }

  // Whether the next non-blank line after line i is quoted with ">".
  bool QuoteFollows(std::size_t i) const {
    for (std::size_t k = i + 1; k < lines_.size(); ++k) {
      const std::string next = Normalized(lines_[k]);
      if (!next.empty()) return next[0] == '>';
    }
    return false;
  }

  bool HeaderBlockFollows(std::size_t i) const {
    for (std::size_t k = i + 1; k < lines_.size() && k <= i + kHeaderBlockLookahead; ++k) {
      if (IsHeaderBlockField(Normalized(lines_[k]))) return true;
    }
    return false;
  }

  static std::string Join(const std::vector<std::string_view>& kept) {
    std::string out;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (i > 0) out.push_back('\n');
      out.append(kept[i]);
    }
    return out;
  }

  std::vector<std::string_view> lines_;
};

}  // namespace

std::string CustomerWords(std::string_view body) { return WordsCutter(body).Run(); }

}  // namespace mailreqd
