#include "parsers/request_fields.h"

#include <array>
#include <set>

#include "parsers/keywords.h"

namespace mailreqd {
namespace {

constexpr std::size_t kMaxUsername = 64;
constexpr std::size_t kMaxService = 64;
constexpr std::size_t kMaxFieldValue = 256;

struct Line {
  std::string_view text;
  std::string_view lower;
};

// The line of `w` that starts at `pos`, both forms; moves `pos` past its '\n'. Requires
// pos < w.text.size(). The readers walk the lines with it rather than splitting the
// words into a vector once per reader.
Line NextLine(const FoldedWords& w, std::size_t& pos) {
  std::size_t nl = w.text.find('\n', pos);
  if (nl == std::string::npos) nl = w.text.size();
  const Line line = {std::string_view(w.text).substr(pos, nl - pos),
                     std::string_view(w.lower).substr(pos, nl - pos)};
  pos = nl + 1;
  return line;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::size_t SkipSpaces(std::string_view s, std::size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Where the text of a line starts after indentation and a list bullet ("-", "*", "•").
std::size_t LineBodyStart(std::string_view s) {
  std::size_t i = SkipSpaces(s, 0);
  if (i < s.size() && (s[i] == '-' || s[i] == '*')) return SkipSpaces(s, i + 1);
  if (s.substr(i, 3) == "\xE2\x80\xA2") return SkipSpaces(s, i + 3);
  return i;
}

bool IsUsernameChar(char c) { return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-'; }

// A username value starting at s[i] (after the separator), or nullopt.
std::optional<std::string> UsernameAt(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == '"' || s[i] == '\'' || s[i] == '<' || s[i] == '(')) ++i;
  std::size_t end = i;
  while (end < s.size() && IsUsernameChar(s[end])) ++end;
  const bool bounded = end == s.size() || static_cast<unsigned char>(s[end]) >= 0x80 ||
                       std::string_view(" \t\r,;)]>\"'!?").find(s[end]) != std::string::npos;
  std::string_view value = s.substr(i, end - i);
  while (!value.empty() && value.back() == '.') value.remove_suffix(1);
  if (!bounded || value.empty() || value.size() > kMaxUsername) return std::nullopt;
  return std::string(value);
}

// The value after a username label ending at `i`, separated as `sep` requires.
std::optional<std::string> ValueAfterLabel(const Line& line, std::size_t i, LabelSep sep) {
  const std::size_t after_space = SkipSpaces(line.lower, i);
  const bool spaced = after_space > i;
  i = after_space;
  bool punct = false;
  if (i < line.lower.size() && std::string_view(":=-#").find(line.lower[i]) != std::string::npos) {
    punct = true;
    i = SkipSpaces(line.lower, i + 1);
  }
  if (sep == LabelSep::kPunct && !punct) return std::nullopt;
  if (sep == LabelSep::kIs && !punct && !spaced) return std::nullopt;
  return UsernameAt(line.text, i);
}

std::optional<std::string> UsernameInLine(const Line& line) {
  const std::size_t body = LineBodyStart(line.lower);
  for (const UsernameLabel& label : UsernameLabels()) {
    for (std::size_t pos = FindWord(line.lower, label.text); pos != std::string::npos;
         pos = FindWord(line.lower, label.text, pos + 1)) {
      if (label.line_start && pos != body) break;
      if (auto v = ValueAfterLabel(line, pos + label.text.size(), label.sep)) return v;
    }
  }
  return std::nullopt;
}

// The canonical names of the services named in `lower` (word-bounded, case-insensitive).
void CollectServices(std::string_view lower, const std::vector<ServiceNames>& services,
                     std::set<std::string>& found) {
  for (const ServiceNames& s : services) {
    if (FindWord(lower, FoldWidth(s.name, true)) != std::string::npos) {
      found.insert(s.name);
      continue;
    }
    for (const std::string& alias : s.aliases) {
      if (!alias.empty() && FindWord(lower, FoldWidth(alias, true)) != std::string::npos) {
        found.insert(s.name);
        break;
      }
    }
  }
}

// The value of a "Service: x" line, resolved to a canonical name when it names one.
std::optional<std::string> ServiceLineValue(const Line& line,
                                            const std::vector<ServiceNames>& services) {
  const std::size_t start = LineBodyStart(line.lower);
  for (std::string_view label : ServiceLabels()) {
    if (line.lower.substr(start, label.size()) != label) continue;
    std::size_t i = SkipSpaces(line.lower, start + label.size());
    if (i >= line.lower.size() ||
        std::string_view(":=-").find(line.lower[i]) == std::string::npos) {
      continue;
    }
    std::string_view value = Trim(line.text.substr(i + 1));
    while (!value.empty() && (value.back() == '.' || value.back() == ',')) value.remove_suffix(1);
    if (value.empty()) continue;
    std::set<std::string> found;
    CollectServices(FoldWidth(value, true), services, found);
    if (found.size() == 1) return *found.begin();
    return std::string(value.substr(0, kMaxService));
  }
  return std::nullopt;
}

// After `label` at lower[i]: the label must end a word, then ":", "=" or " is " follows.
// Returns the offset of the value, or npos.
std::size_t FieldValueStart(std::string_view lower, std::size_t i, std::string_view label) {
  if (lower.substr(i, label.size()) != label) return std::string::npos;
  i += label.size();
  if (IsAsciiAlnum(label.back()) && i < lower.size() && IsAsciiAlnum(lower[i])) {
    return std::string::npos;
  }
  if (i < lower.size() && lower[i] == '.') ++i;  // "Tel.:"
  i = SkipSpaces(lower, i);
  if (i < lower.size() && (lower[i] == ':' || lower[i] == '=')) return i + 1;
  if (lower.substr(i, 3) == "is ") return i + 3;
  return std::string::npos;
}

// FieldLabels() by first byte, each group in table order (so "email address" still
// comes before "address"). Every line is tried against the labels; its first byte rules
// out nearly all of them.
const std::array<std::vector<FieldLabel>, 256>& FieldLabelsByFirstByte() {
  static const auto kLabels = [] {
    std::array<std::vector<FieldLabel>, 256> by_byte;
    for (const FieldLabel& label : FieldLabels()) {
      by_byte[static_cast<unsigned char>(label.text[0])].push_back(label);
    }
    return by_byte;
  }();
  return kLabels;
}

void ReadFieldLine(const Line& line, CorrectionFields& out) {
  std::size_t i = LineBodyStart(line.lower);
  bool is_new = false;
  for (std::string_view w : NewValueWords()) {
    if (line.lower.substr(i, w.size()) == w) {
      i += w.size();
      is_new = true;
      break;
    }
  }
  if (i >= line.lower.size()) return;  // no label
  for (const FieldLabel& label :
       FieldLabelsByFirstByte()[static_cast<unsigned char>(line.lower[i])]) {
    const std::size_t v = FieldValueStart(line.lower, i, label.text);
    if (v == std::string::npos) continue;
    const std::string_view value = Trim(line.text.substr(v));
    if (value.empty()) return;
    out.fields.emplace(std::string(label.field), std::string(value.substr(0, kMaxFieldValue)));
    out.announced_new = out.announced_new || is_new;
    return;
  }
}

}  // namespace

FoldedWords::FoldedWords(std::string_view words) : text(FoldWidth(words, false)), lower(text) {
  LowerAsciiInPlace(lower);
}

std::optional<std::string> FindUsername(const FoldedWords& words) {
  for (std::size_t pos = 0; pos < words.text.size();) {
    if (auto v = UsernameInLine(NextLine(words, pos))) return v;
  }
  return std::nullopt;
}

std::optional<std::string> FindService(const FoldedWords& words, std::string_view subject_lower,
                                       const std::vector<ServiceNames>& services) {
  for (std::size_t pos = 0; pos < words.text.size();) {
    if (auto v = ServiceLineValue(NextLine(words, pos), services)) return v;
  }
  std::set<std::string> found;
  CollectServices(words.lower, services, found);
  CollectServices(subject_lower, services, found);
  if (found.size() != 1) return std::nullopt;  // none, or ambiguous
  return *found.begin();
}

CorrectionFields FindCorrectionFields(const FoldedWords& words) {
  CorrectionFields out;
  for (std::size_t pos = 0; pos < words.text.size();) ReadFieldLine(NextLine(words, pos), out);
  return out;
}

}  // namespace mailreqd
