// Classify: keywords, token, language. The never-reply rules are in no_reply.cc, the
// username/service/field readers in request_fields.cc, the tables in keywords.cc.
//
// Precedence, in order:
//   1. A never-reply reason ends classification (kind unknown, nothing else read).
//   2. A confirmation token anywhere (subject, or body with quoted text) makes kConfirm:
//      the owner confirms by pressing reply, so whatever else they wrote is secondary.
//   3. Keyword evidence per kind: a hit in the subject weighs 3 (the customer's own
//      label for the mail), or 1 when the subject has reply/forward prefixes (then it is
//      usually our subject echoed back); each distinct keyword in the customer's own
//      words weighs 1, at most 3 per kind. A correction field announced as new ("New
//      address: ...") adds 1 to correction.
//   4. "unsubscribe"/"退訂" followed closely by a marketing noun ("unsubscribe me from
//      your newsletter") counts as marketing opt-out, not as ending a subscription, even
//      when a username follows: ending a paid subscription by mistake is the worse error.
//   5. When both unsubscribe and marketing opt-out have evidence, a named username or
//      service means the customer identifies a subscription to end (unsubscribe);
//      without one, the safer reading is to stop promotional mail (marketing_optout).
//   6. Highest weight wins; ties go to unsubscribe, marketing opt-out, correction, access,
//      policy, in that order (the actionable request over the informational one). No
//      evidence at all leaves kUnknown, for a human.
#include "parsers/classify.h"

#include <algorithm>
#include <array>

#include "parsers/keywords.h"
#include "parsers/quoting.h"
#include "parsers/request_fields.h"

namespace mailreqd {
namespace {

// Customer requests are short; the words are read from at most this much body, which
// bounds the keyword scan on huge bodies. Tokens are searched in the whole body.
constexpr std::size_t kMaxWordsBytes = 64u << 10;
// Bytes after an "unsubscribe" keyword (within its sentence) in which a marketing noun
// makes it an opt-out.
constexpr std::size_t kMarketingWindow = 48;
constexpr int kSubjectWeight = 3;
constexpr int kReplySubjectWeight = 1;
constexpr int kMaxBodyWeight = 3;

constexpr std::array<RequestKind, 5> kKeywordKinds = {
    RequestKind::kUnsubscribe, RequestKind::kMarketingOptOut, RequestKind::kCorrection,
    RequestKind::kAccess, RequestKind::kPolicy};  // also the tie-break order

struct KindNameEntry {
  RequestKind kind;
  const char* name;
};
constexpr KindNameEntry kKindNames[] = {
    {RequestKind::kUnsubscribe, "unsubscribe"},
    {RequestKind::kAccess, "access"},
    {RequestKind::kCorrection, "correction"},
    {RequestKind::kPolicy, "policy"},
    {RequestKind::kMarketingOptOut, "marketing_optout"},
    {RequestKind::kConfirm, "confirm"},
    {RequestKind::kUnknown, "unknown"},
};

bool IsBase32(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The token whose "ref:" colon is at text[colon], or nullopt.
std::optional<std::string> TokenAt(std::string_view text, std::size_t colon) {
  const std::size_t ref = colon - 3;
  for (std::size_t k = 0; k < 3; ++k) {
    if (LowerAscii(text[ref + k]) != kTokenPrefix[k]) return std::nullopt;
  }
  if (ref > 0 && IsAsciiAlnum(text[ref - 1])) return std::nullopt;  // "xref:", "href:"
  const std::size_t start = colon + 1, end = start + kTokenLength;
  if (end > text.size()) return std::nullopt;
  std::string token;
  for (std::size_t i = start; i < end; ++i) {
    if (!IsBase32(text[i])) return std::nullopt;
    token.push_back(LowerAscii(text[i]));
  }
  if (end < text.size() && IsAsciiAlnum(text[end])) return std::nullopt;
  return token;
}

// The subject without reply/forward prefixes ("Re: AW: 回复：x", "Re[2]: x"), folded to
// lower case; `was_reply` tells whether any prefix was removed.
std::string StripReplyPrefixes(std::string_view subject, bool& was_reply) {
  const std::string folded = FoldWidth(subject, true);
  std::string_view s = folded;
  was_reply = false;
  for (bool again = true; again;) {
    again = false;
    s.remove_prefix(std::min(s.size(), s.find_first_not_of(" \t")));
    for (std::string_view p : ReplyPrefixes()) {
      if (s.substr(0, p.size()) != p) continue;
      std::size_t i = p.size();
      if (i < s.size() && (s[i] == '[' || s[i] == '(')) {  // "Re[2]:", "Re(2):"
        while (i < s.size() && s[i] != ']' && s[i] != ')') ++i;
        ++i;
      }
      while (i < s.size() && s[i] == ' ') ++i;
      if (i < s.size() && s[i] == ':') {
        s.remove_prefix(i + 1);
        was_reply = again = true;
        break;
      }
    }
  }
  return std::string(s);
}

bool IsHan(char32_t cp) { return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF); }

bool IsLatinLetter(char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26; }

bool IsKana(char32_t cp) { return cp >= 0x3040 && cp <= 0x30FF; }

// Counts Han characters, script-specific ones, kana and latin words over `text`.
struct ScriptCounts {
  int han = 0, traditional = 0, simplified = 0, kana = 0, latin_words = 0;
  void Add(std::string_view text) {
    const auto& t = TraditionalOnlyHan();
    const auto& s = SimplifiedOnlyHan();
    int words = 0;  // counted in a local, which stays in a register in the per-byte loop
    for (std::size_t i = 0; i < text.size();) {
      // ASCII, most of the bytes, is neither kana nor Han: it only counts words, a whole
      // latin word at a time, rather than by a call per byte.
      if (static_cast<unsigned char>(text[i]) < 0x80) {
        if (IsLatinLetter(text[i])) {
          ++words;
          do ++i;
          while (i < text.size() && IsLatinLetter(text[i]));
        } else {
          ++i;
        }
        continue;
      }
      std::size_t next = i;  // NextCodePoint takes a reference: this keeps `i` in a register
      const char32_t cp = NextCodePoint(text, next);
      i = next;
      if (IsKana(cp)) ++kana;
      if (!IsHan(cp)) continue;
      ++han;
      if (std::binary_search(t.begin(), t.end(), cp)) ++traditional;
      if (std::binary_search(s.begin(), s.end(), cp)) ++simplified;
    }
    latin_words += words;
  }
};

// Chinese when there are more Han characters than latin words (one Han character
// carries about a word) and no kana (Japanese, which we answer in English); then the
// script with more characters unique to it, ties going to Traditional.
Language DetectLanguage(std::string_view words, std::string_view subject) {
  ScriptCounts c;
  c.Add(words);
  c.Add(subject);
  if (c.han <= c.latin_words || c.kana > 0) return Language::kEnglish;
  return c.simplified > c.traditional ? Language::kSimplifiedChinese
                                      : Language::kTraditionalChinese;
}

struct Evidence {
  std::array<bool, 7> subject{};
  std::array<int, 7> body{};
};

std::size_t Index(RequestKind k) { return static_cast<std::size_t>(k); }

bool NearMarketingNoun(std::string_view form, std::size_t end) {
  std::string_view window = form.substr(std::min(end, form.size()), kMarketingWindow);
  window = window.substr(0, window.find('\n'));  // the same sentence only
  for (std::string_view noun : MarketingNouns()) {
    if (FindWord(window, noun) != std::string_view::npos) return true;
  }
  return false;
}

void AddHits(std::string_view form, const KeywordIndex& keywords, bool in_subject, Evidence& ev) {
  const std::vector<std::size_t> first = keywords.FirstHits(form);
  for (std::size_t k = 0; k < first.size(); ++k) {
    if (first[k] == std::string_view::npos) continue;
    const Keyword& kw = keywords.keywords()[k];
    RequestKind kind = kw.kind;
    if (kind == RequestKind::kUnsubscribe && NearMarketingNoun(form, first[k] + kw.text.size())) {
      kind = RequestKind::kMarketingOptOut;
    }
    if (in_subject) {
      ev.subject[Index(kind)] = true;
    } else {
      ++ev.body[Index(kind)];
    }
  }
}

KeywordIndex ExtraKeywords(const ClassifyConfig& cfg) {
  std::vector<Keyword> out;
  for (const auto& [kind, words] : cfg.extra_keywords) {
    if (kind == RequestKind::kConfirm || kind == RequestKind::kUnknown) continue;
    for (const std::string& w : words) {
      std::string form = MatchForm(w);
      if (!form.empty()) out.push_back({kind, std::move(form)});
    }
  }
  return KeywordIndex(std::move(out));
}

RequestKind ChooseKind(const Evidence& ev, bool reply_subject, bool identified, bool new_field) {
  std::array<int, 7> score{};
  for (RequestKind k : kKeywordKinds) {
    const std::size_t i = Index(k);
    score[i] = (ev.subject[i] ? (reply_subject ? kReplySubjectWeight : kSubjectWeight) : 0) +
               std::min(ev.body[i], kMaxBodyWeight);
  }
  if (new_field) ++score[Index(RequestKind::kCorrection)];
  int& unsub = score[Index(RequestKind::kUnsubscribe)];
  int& marketing = score[Index(RequestKind::kMarketingOptOut)];
  if (unsub > 0 && marketing > 0) {
    (identified ? unsub : marketing) = unsub + marketing;
    (identified ? marketing : unsub) = 0;
  }
  RequestKind best = RequestKind::kUnknown;
  int best_score = 0;
  for (RequestKind k : kKeywordKinds) {
    if (score[Index(k)] > best_score) best = k, best_score = score[Index(k)];
  }
  return best;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "don't keep", "do not keep", "不保留", "不要保留", "唔好保留": the customer says the opposite.
// ("No, keep it" is a KEEP, so a bare "no" does not negate.)
bool Negated(std::string_view before) {
  for (std::string_view n : {"not ", "don t ", "dont ", "never "}) {
    if (EndsWith(before, n)) return true;
  }
  const std::string_view han =
      before.substr(before.size() - std::min<std::size_t>(6, before.size()));
  return han.find("不") != std::string_view::npos || han.find("唔") != std::string_view::npos ||
         han.find("別") != std::string_view::npos || han.find("别") != std::string_view::npos;
}

// The customer's own words (in MatchForm) ask to KEEP (reverse the cancellation) and do
// not negate it.
bool SaysKeep(std::string_view form) {
  for (std::string_view word : {"keep", "保留"}) {
    for (std::size_t pos = FindWord(form, word); pos != std::string::npos;
         pos = FindWord(form, word, pos + 1)) {
      if (!Negated(form.substr(0, pos))) return true;
    }
  }
  return false;
}

}  // namespace

const char* KindName(RequestKind k) {
  for (const KindNameEntry& e : kKindNames) {
    if (e.kind == k) return e.name;
  }
  return "unknown";
}

std::optional<RequestKind> ParseKind(std::string_view name) {
  for (const KindNameEntry& e : kKindNames) {
    if (name == e.name) return e.kind;
  }
  return std::nullopt;
}

std::optional<std::string> FindToken(std::string_view text) {
  for (std::size_t colon = text.find(':', 3); colon != std::string_view::npos;
       colon = text.find(':', colon + 1)) {
    if (auto token = TokenAt(text, colon)) return token;
  }
  return std::nullopt;
}

std::string FormatToken(std::string_view token) {
  return "[" + std::string(kTokenPrefix) + std::string(token) + "]";
}

Request Classify(const Message& msg, const ClassifyConfig& cfg) {
  Request req;
  req.no_reply = NoReplyReason(msg, cfg);
  if (req.no_reply) return req;

  const std::string words =
      CustomerWords(std::string_view(msg.body_text).substr(0, kMaxWordsBytes));
  bool reply_subject = false;
  const std::string subject = StripReplyPrefixes(msg.subject, reply_subject);
  const FoldedWords folded(words);
  req.language = DetectLanguage(words, subject);
  req.username = FindUsername(folded);
  if (!req.username) req.username = FindUsername(FoldedWords(msg.subject));
  req.service = FindService(folded, subject, cfg.services);

  // `folded.lower` is FoldWidth(words, true) and `subject` is folded already: the match
  // forms start from them rather than folding the same text again.
  const std::string words_form = MatchFormOfFolded(folded.lower);
  req.token = FindToken(msg.subject);
  if (!req.token) req.token = FindToken(msg.body_text);
  if (req.token) {
    req.kind = RequestKind::kConfirm;
    req.keep = SaysKeep(words_form);
    return req;
  }

  Evidence ev;
  const std::string subject_form = MatchFormOfFolded(subject);
  AddHits(subject_form, BuiltinKeywords(), true, ev);
  AddHits(words_form, BuiltinKeywords(), false, ev);
  if (!cfg.extra_keywords.empty()) {  // an index is 8 KB to set up: only when there are any
    const KeywordIndex extra = ExtraKeywords(cfg);
    AddHits(subject_form, extra, true, ev);
    AddHits(words_form, extra, false, ev);
  }
  CorrectionFields fields = FindCorrectionFields(folded);
  req.kind = ChooseKind(ev, reply_subject, req.username || req.service, fields.announced_new);
  if (req.kind == RequestKind::kCorrection) req.fields = std::move(fields.fields);
  return req;
}

}  // namespace mailreqd
