// Keywords: the tables Classify matches (request keywords, reply prefixes, labels for
// usernames and correction fields, script-specific Han characters) and the folded text
// forms they are matched in. Pure; tables are static and read-only.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/classify.h"

namespace mailreqd {

// Lower-cases the ASCII letters of s; every other byte is left as it is.
void LowerAsciiInPlace(std::string& s);

// Copies text with the full-width forms U+FF01..U+FF5E mapped to their ASCII twins and
// the ideographic space U+3000 to ' ' (Chinese mail clients type "：" and "Ｕｓｅｒ");
// ASCII letters are lower-cased when `lower`. Never changes any other byte, so
// FoldWidth(t, true) and FoldWidth(t, false) have the same length and offsets.
std::string FoldWidth(std::string_view text, bool lower);

// The form keywords are matched in: FoldWidth(text, true), then every run of ASCII
// punctuation or space, CJK punctuation (U+3000..U+303F), general punctuation
// (U+2000..U+206F) or NBSP becomes one ' ', or one '\n' when it holds a sentence or line
// end (. ! ? ; newline 。), so that no keyword matches across sentences. No leading or
// trailing separator.
std::string MatchForm(std::string_view text);

// MatchForm of text that is already FoldWidth(t, true), for callers that hold that form
// anyway: MatchForm(t) == MatchFormOfFolded(FoldWidth(t, true)). (FoldWidth never leaves
// a foldable sequence behind, so folding twice changes nothing.)
std::string MatchFormOfFolded(std::string_view folded);

// Decodes the UTF-8 sequence at s[i] and advances i past it. A malformed byte comes back
// as itself and advances by one, which is all the callers need. Requires i < s.size().
char32_t NextCodePoint(std::string_view s, std::size_t& i);

// ASCII letters and digits by byte value: the per-byte loops over whole bodies test
// this, and one lookup is cheaper than three range tests.
inline constexpr std::array<bool, 256> kAsciiAlnum = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  return t;
}();

inline bool IsAsciiAlnum(char c) { return kAsciiAlnum[static_cast<unsigned char>(c)]; }

// Position of the first occurrence of `word` in `hay` at or after `from` that does not
// sit inside a longer latin word: the byte before and the byte after must not be ASCII
// letters or digits (one trailing 's' is allowed, for plurals). Han text has no word
// breaks, so a neighbouring non-ASCII byte is a boundary. npos when absent.
std::size_t FindWord(std::string_view hay, std::string_view word, std::size_t from = 0);

// A request keyword, already in MatchForm.
struct Keyword {
  RequestKind kind;
  std::string text;
};

// A fixed list of keywords, indexed by first byte so that one pass over a text finds
// where each first occurs: Classify looks for about a hundred keywords in every mail,
// and a FindWord pass per keyword was most of its time.
class KeywordIndex {
 public:
  explicit KeywordIndex(std::vector<Keyword> keywords);

  const std::vector<Keyword>& keywords() const { return keywords_; }

  // For each keyword k, FindWord(hay, keywords()[k].text): npos when absent or empty.
  // Linear in hay.size() times the number of keywords sharing a first byte.
  std::vector<std::size_t> FirstHits(std::string_view hay) const;

 private:
  // Records in `first` the keywords not found before that match at hay[pos]; returns how
  // many it recorded.
  std::size_t MatchAt(std::string_view hay, std::size_t pos, std::vector<std::size_t>& first) const;

  std::vector<Keyword> keywords_;
  // Numbers of the non-empty keywords, grouped by first byte: those starting with byte b
  // are by_first_byte_[bucket_start_[b] .. bucket_start_[b + 1]).
  std::vector<std::size_t> by_first_byte_;
  std::array<std::size_t, 257> bucket_start_{};
  // Whether some keyword starts with the byte pair (b0, b1), at bit b0 * 256 + b1 (every
  // b1 for a one-byte keyword): most positions of a text start no keyword, and this one
  // test rules them out.
  std::bitset<65536> first_pairs_;
};

// Built-in keywords for unsubscribe, access, correction, policy and marketing opt-out,
// in English, Traditional and Simplified Chinese.
const KeywordIndex& BuiltinKeywords();

// Words that turn a nearby "unsubscribe"/"退訂" into a marketing opt-out ("unsubscribe me
// from your newsletter"), in MatchForm.
std::span<const std::string_view> MarketingNouns();

// Subject prefixes added by replying or forwarding ("re", "fwd", "aw", "回复" ...), lower
// case, without the colon.
std::span<const std::string_view> ReplyPrefixes();

// Lower-case subject beginnings that only machines write: vacation notices and bounces.
std::span<const std::string_view> AutoReplySubjects();
std::span<const std::string_view> BounceSubjects();

// How a username label is separated from the value.
enum class LabelSep {
  kPunct,  // "Username: x", "User name - x", "user name = x"
  kIs,     // the label ends in " is": "my username is x" (punctuation also accepted)
  kLoose,  // Han labels: punctuation or just a space, "用戶名 x"
};
struct UsernameLabel {
  std::string_view text;  // lower case
  LabelSep sep;
  bool line_start;  // only at the start of a line ("Account:" mid-sentence is too vague)
};
std::span<const UsernameLabel> UsernameLabels();

// Labels of a "Service: x" line, lower case.
std::span<const std::string_view> ServiceLabels();

// Labels of correction fields; `field` is one of postal_address, telephone, fax, email,
// name. Longer labels come first so "email address" wins over "address".
struct FieldLabel {
  std::string_view field;
  std::string_view text;  // lower case
};
std::span<const FieldLabel> FieldLabels();

// Words that announce a new value before a field label: "new", "updated", "新" ...
std::span<const std::string_view> NewValueWords();

// Characters written only in Traditional / only in Simplified Chinese, sorted.
const std::vector<char32_t>& TraditionalOnlyHan();
const std::vector<char32_t>& SimplifiedOnlyHan();

}  // namespace mailreqd
