#include "parsers/keywords.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace mailreqd {

char32_t NextCodePoint(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t cp = len == 1 ? b : b & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      ++i;
      return b;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += len;
  return cp;
}

namespace {

// True for code points MatchForm turns into a space.
bool IsSeparator(char32_t cp) {
  if (cp < 0x80) return !IsAsciiAlnum(static_cast<char>(cp));
  return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
         cp == 0xFF5F || cp == 0xFF60 || (cp >= 0xFF61 && cp <= 0xFF65);
}

// Sentence and line ends, which keywords never span: . ! ? ; newline 。
bool IsSentenceEnd(char32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == ';' || cp == '\n' || cp == 0x3002;
}

// FindWord's boundary rule for an occurrence of `word` at hay[pos]; the byte before is
// checked by the callers, which can skip whole positions with it.
bool EndsWord(std::string_view hay, std::size_t pos, std::string_view word) {
  std::size_t end = pos + word.size();
  if (IsAsciiAlnum(word.back()) && end < hay.size() && hay[end] == 's') ++end;
  return end == hay.size() || !IsAsciiAlnum(hay[end]) || !IsAsciiAlnum(word.back());
}

// The offset of the first E3 or EF byte in s, or s.size(): memchr is far quicker than a
// loop over the bytes.
std::size_t FirstFoldLead(std::string_view s) {
  const auto offset = [&s](const void* p) {
    return static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
  };
  const void* e3 = std::memchr(s.data(), 0xE3, s.size());
  const std::size_t end = e3 ? offset(e3) : s.size();
  const void* ef = std::memchr(s.data(), 0xEF, end);
  return ef ? offset(ef) : end;
}

std::vector<char32_t> SortedCodePoints(std::string_view utf8) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < utf8.size();) out.push_back(NextCodePoint(utf8, i));
  std::sort(out.begin(), out.end());
  return out;
}

struct RawKeyword {
  RequestKind kind;
  std::string_view text;
};

// Phrases, not single common words, so that ordinary sentences do not trigger a kind.
// Matched word-bounded in MatchForm, so punctuation and case do not matter.
constexpr RawKeyword kRawKeywords[] = {
    {RequestKind::kUnsubscribe, "unsubscribe"},
    {RequestKind::kUnsubscribe, "cancel my subscription"},
    {RequestKind::kUnsubscribe, "cancel subscription"},
    {RequestKind::kUnsubscribe, "cancel the subscription"},
    {RequestKind::kUnsubscribe, "cancel my membership"},
    {RequestKind::kUnsubscribe, "cancel my account"},
    {RequestKind::kUnsubscribe, "end my subscription"},
    {RequestKind::kUnsubscribe, "end my membership"},
    {RequestKind::kUnsubscribe, "terminate my subscription"},
    {RequestKind::kUnsubscribe, "stop my subscription"},
    {RequestKind::kUnsubscribe, "close my account"},
    {RequestKind::kUnsubscribe, "取消訂閱"},
    {RequestKind::kUnsubscribe, "取消订阅"},
    {RequestKind::kUnsubscribe, "退訂"},
    {RequestKind::kUnsubscribe, "退订"},
    {RequestKind::kUnsubscribe, "取消訂購"},
    {RequestKind::kUnsubscribe, "取消订购"},
    {RequestKind::kUnsubscribe, "終止訂閱"},
    {RequestKind::kUnsubscribe, "终止订阅"},
    {RequestKind::kUnsubscribe, "取消會籍"},
    {RequestKind::kUnsubscribe, "取消会籍"},
    {RequestKind::kAccess, "data access"},
    {RequestKind::kAccess, "access my data"},
    {RequestKind::kAccess, "access my personal data"},
    {RequestKind::kAccess, "access to my data"},
    {RequestKind::kAccess, "access to my personal data"},
    {RequestKind::kAccess, "copy of my personal data"},
    {RequestKind::kAccess, "copy of my data"},
    {RequestKind::kAccess, "copy of the personal data"},
    {RequestKind::kAccess, "data access request"},
    {RequestKind::kAccess, "subject access request"},
    {RequestKind::kAccess, "personal data you hold"},
    {RequestKind::kAccess, "what data do you hold"},
    {RequestKind::kAccess, "查閱資料"},
    {RequestKind::kAccess, "查阅资料"},
    {RequestKind::kAccess, "索取資料"},
    {RequestKind::kAccess, "索取资料"},
    {RequestKind::kAccess, "查閱個人資料"},
    {RequestKind::kAccess, "查阅个人资料"},
    {RequestKind::kAccess, "查閱我的個人資料"},
    {RequestKind::kAccess, "查阅我的个人资料"},
    {RequestKind::kAccess, "資料查閱"},
    {RequestKind::kAccess, "资料查阅"},
    {RequestKind::kCorrection, "correction"},
    {RequestKind::kCorrection, "correct my data"},
    {RequestKind::kCorrection, "correct my details"},
    {RequestKind::kCorrection, "correct my personal data"},
    {RequestKind::kCorrection, "update my address"},
    {RequestKind::kCorrection, "update my details"},
    {RequestKind::kCorrection, "update my phone"},
    {RequestKind::kCorrection, "update my telephone"},
    {RequestKind::kCorrection, "update my email"},
    {RequestKind::kCorrection, "update my name"},
    {RequestKind::kCorrection, "change my address"},
    {RequestKind::kCorrection, "change my phone"},
    {RequestKind::kCorrection, "change my telephone"},
    {RequestKind::kCorrection, "change my fax"},
    {RequestKind::kCorrection, "change my email"},
    {RequestKind::kCorrection, "change my name"},
    {RequestKind::kCorrection, "更正資料"},
    {RequestKind::kCorrection, "更正资料"},
    {RequestKind::kCorrection, "修改資料"},
    {RequestKind::kCorrection, "修改资料"},
    {RequestKind::kCorrection, "更改資料"},
    {RequestKind::kCorrection, "更改资料"},
    {RequestKind::kCorrection, "更改地址"},
    {RequestKind::kCorrection, "修改地址"},
    {RequestKind::kCorrection, "更改電話"},
    {RequestKind::kCorrection, "更改电话"},
    {RequestKind::kCorrection, "修改電話"},
    {RequestKind::kCorrection, "修改电话"},
    {RequestKind::kPolicy, "privacy policy"},
    {RequestKind::kPolicy, "privacy statement"},
    {RequestKind::kPolicy, "privacy notice"},
    {RequestKind::kPolicy, "privacy practices"},
    {RequestKind::kPolicy, "how do you use my data"},
    {RequestKind::kPolicy, "how you use my data"},
    {RequestKind::kPolicy, "personal information collection statement"},
    {RequestKind::kPolicy, "私隱政策"},
    {RequestKind::kPolicy, "隱私政策"},
    {RequestKind::kPolicy, "隐私政策"},
    {RequestKind::kPolicy, "隱私權政策"},
    {RequestKind::kPolicy, "私隱聲明"},
    {RequestKind::kPolicy, "隐私声明"},
    {RequestKind::kPolicy, "個人資料收集聲明"},
    {RequestKind::kPolicy, "个人资料收集声明"},
    {RequestKind::kMarketingOptOut, "stop marketing"},
    {RequestKind::kMarketingOptOut, "opt out of marketing"},
    {RequestKind::kMarketingOptOut, "opt out of direct marketing"},
    {RequestKind::kMarketingOptOut, "direct marketing"},
    {RequestKind::kMarketingOptOut, "marketing email"},
    {RequestKind::kMarketingOptOut, "marketing mail"},
    {RequestKind::kMarketingOptOut, "marketing messages"},
    {RequestKind::kMarketingOptOut, "newsletter"},
    {RequestKind::kMarketingOptOut, "no promotional"},
    {RequestKind::kMarketingOptOut, "promotional email"},
    {RequestKind::kMarketingOptOut, "promotional mail"},
    {RequestKind::kMarketingOptOut, "stop sending promotions"},
    {RequestKind::kMarketingOptOut, "stop sending me offers"},
    {RequestKind::kMarketingOptOut, "拒收推廣"},
    {RequestKind::kMarketingOptOut, "拒收推广"},
    {RequestKind::kMarketingOptOut, "停止推廣"},
    {RequestKind::kMarketingOptOut, "停止推广"},
    {RequestKind::kMarketingOptOut, "推廣郵件"},
    {RequestKind::kMarketingOptOut, "推广邮件"},
    {RequestKind::kMarketingOptOut, "宣傳郵件"},
    {RequestKind::kMarketingOptOut, "宣传邮件"},
    {RequestKind::kMarketingOptOut, "直接促銷"},
    {RequestKind::kMarketingOptOut, "直接促销"},
    {RequestKind::kMarketingOptOut, "拒收廣告"},
    {RequestKind::kMarketingOptOut, "拒收广告"},
};

constexpr std::string_view kMarketingNouns[] = {
    "newsletter", "marketing",   "promotion", "promotional", "mailing list",
    "offers",     "advertising", "推廣",      "推广",        "廣告",
    "广告",       "宣傳",        "宣传",      "電子報",      "电子报",
};

// RFC 5322 §3.6.5 suggests "Re:"; clients localize it (AW/WG German, SV/VS Nordic,
// 回覆/轉寄 Traditional, 回复/答复/转发 Simplified Chinese).
constexpr std::string_view kReplyPrefixes[] = {
    "re",   "fwd",  "fw",   "aw",   "wg",   "sv",   "vs",   "antw", "tr",
    "回覆", "回復", "回复", "答复", "答覆", "转发", "轉發", "轉寄",
};

// Only prefixes no person types at the start of a subject.
constexpr std::string_view kAutoReplySubjects[] = {
    "auto:",        "auto reply",    "auto-reply",         "autoreply",     "automatic reply",
    "autoresponse", "auto response", "automatic response", "out of office", "out-of-office",
    "自动回复",     "自動回覆",      "自動回復",           "自动答复",
};

// Bounce subjects of the common MTAs, for bounces without a machine-readable sign.
constexpr std::string_view kBounceSubjects[] = {
    "undeliverable:",
    "undelivered mail returned to sender",
    "delivery status notification",
    "returned mail:",
    "mail delivery failed",
    "failure notice",
    "delivery failure",
    "non-delivery",
    "message delivery failure",
    "退信",
    "未能送達",
    "无法投递",
};

constexpr UsernameLabel kUsernameLabels[] = {
    {"my username is", LabelSep::kIs, false},
    {"my user name is", LabelSep::kIs, false},
    {"my login is", LabelSep::kIs, false},
    {"my user id is", LabelSep::kIs, false},
    {"my account name is", LabelSep::kIs, false},
    {"username", LabelSep::kPunct, false},
    {"user name", LabelSep::kPunct, false},
    {"user-name", LabelSep::kPunct, false},
    {"user id", LabelSep::kPunct, false},
    {"userid", LabelSep::kPunct, false},
    {"account name", LabelSep::kPunct, true},
    {"login name", LabelSep::kPunct, false},
    {"login", LabelSep::kPunct, true},
    {"account", LabelSep::kPunct, true},
    {"用戶名稱", LabelSep::kLoose, false},
    {"用户名称", LabelSep::kLoose, false},
    {"使用者名稱", LabelSep::kLoose, false},
    {"登入名稱", LabelSep::kLoose, false},
    {"用戶名", LabelSep::kLoose, false},
    {"用户名", LabelSep::kLoose, false},
    {"登录名", LabelSep::kLoose, false},
    {"帳戶名稱", LabelSep::kLoose, false},
    {"账户名称", LabelSep::kLoose, false},
    {"帳號", LabelSep::kLoose, false},
    {"帐号", LabelSep::kLoose, false},
    {"账号", LabelSep::kLoose, false},
    {"賬號", LabelSep::kLoose, false},
};

constexpr std::string_view kServiceLabels[] = {
    "service name", "service", "服務名稱", "服务名称", "服務", "服务",
};

constexpr FieldLabel kFieldLabels[] = {
    {"email", "email address"},
    {"email", "e-mail address"},
    {"postal_address", "postal address"},
    {"postal_address", "mailing address"},
    {"postal_address", "home address"},
    {"postal_address", "address"},
    {"postal_address", "通訊地址"},
    {"postal_address", "通讯地址"},
    {"postal_address", "郵寄地址"},
    {"postal_address", "邮寄地址"},
    {"postal_address", "地址"},
    {"postal_address", "住址"},
    {"telephone", "telephone number"},
    {"telephone", "phone number"},
    {"telephone", "mobile number"},
    {"telephone", "telephone"},
    {"telephone", "phone"},
    {"telephone", "mobile"},
    {"telephone", "tel"},
    {"telephone", "電話號碼"},
    {"telephone", "电话号码"},
    {"telephone", "電話"},
    {"telephone", "电话"},
    {"telephone", "手機"},
    {"telephone", "手机"},
    {"fax", "fax number"},
    {"fax", "fax"},
    {"fax", "傳真號碼"},
    {"fax", "传真号码"},
    {"fax", "傳真"},
    {"fax", "传真"},
    {"email", "email"},
    {"email", "e-mail"},
    {"email", "電郵地址"},
    {"email", "电邮地址"},
    {"email", "電子郵件"},
    {"email", "电子邮件"},
    {"email", "電郵"},
    {"email", "电邮"},
    {"email", "邮箱"},
    {"email", "郵箱"},
    {"name", "full name"},
    {"name", "name"},
    {"name", "姓名"},
};

constexpr std::string_view kNewValueWords[] = {"my new ",  "new ", "updated ",
                                               "correct ", "新的", "新"};

// Common characters whose form differs between the scripts (pairs at the same index).
constexpr std::string_view kTraditionalOnly =
    "們個這說時會為與來對資訂閱號據電郵碼請謝務帳賬戶話傳隱權問題關於麼沒發還給讓從經過見變"
    "確認聯絡單費帶無長開門聽買賣愛國學實點體員動區當萬應該將總現讀寫錯難歡樂詢覽刪銷冊約價"
    "錢頁網稱廣訊選項擇幫須歷紀錄記護條";
constexpr std::string_view kSimplifiedOnly =
    "们个这说时会为与来对资订阅号据电邮码请谢务帐账户话传隐权问题关于么没发还给让从经过见变"
    "确认联络单费带无长开门听买卖爱国学实点体员动区当万应该将总现读写错难欢乐询览删销册约价"
    "钱页网称广讯选项择帮须历纪录记护条";

}  // namespace

void LowerAsciiInPlace(std::string& s) {
  // Eight bytes at a time: in each byte, the top bit of h + 0x3F is set when its low
  // seven bits h are >= 'A', that of h + 0x25 when h > 'Z' (no byte carries into the
  // next, h + 0x3F <= 0xBE); their difference, for bytes below 0x80, marks 'A'..'Z',
  // which get 0x20 added. A byte loop was most of the folding time on long bodies.
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const std::uint64_t h = x & (0x7F * kOnes);
    const std::uint64_t upper = ((h + 0x3F * kOnes) ^ (h + 0x25 * kOnes)) & ~x & (0x80 * kOnes);
    x |= upper >> 2;
    std::memcpy(s.data() + i, &x, 8);
  }
  for (; i < s.size(); ++i) {
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  }
}

std::string FoldWidth(std::string_view text, bool lower) {
  std::string out(text);
  if (lower) LowerAsciiInPlace(out);
  // Only the lead bytes E3 (U+3000 is E3 80 80) and EF (U+FF01..U+FF5E is EF BC 81..EF BD
  // 9E) start a sequence that folds, and most text has neither: the copy above is then
  // all the work. From the first such byte on, bytes move down in place over the ones a
  // fold drops; a fold only ever shortens, so `o` never passes `i`.
  std::size_t o = FirstFoldLead(out);
  for (std::size_t i = o; i < out.size(); ++i) {
    const auto b = static_cast<unsigned char>(out[i]);
    char c = out[i];
    if (b == 0xEF && i + 2 < out.size()) {
      const auto b1 = static_cast<unsigned char>(out[i + 1]);
      const auto b2 = static_cast<unsigned char>(out[i + 2]);
      const char32_t cp = 0xF000 | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
      if ((b1 == 0xBC || b1 == 0xBD) && (b2 & 0xC0) == 0x80 && cp >= 0xFF01 && cp <= 0xFF5E) {
        c = static_cast<char>(cp - 0xFEE0);
        i += 2;
      }
    } else if (b == 0xE3 && i + 2 < out.size() && out[i + 1] == '\x80' && out[i + 2] == '\x80') {
      c = ' ';
      i += 2;
    }
    if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out[o++] = c;
  }
  out.resize(o);
  return out;
}

std::string MatchForm(std::string_view text) { return MatchFormOfFolded(FoldWidth(text, true)); }

std::string MatchFormOfFolded(std::string_view folded) {
  // A code point never becomes longer (a run of separators becomes one byte), so the
  // output fits in folded.size() bytes, written through `o` as in FoldWidth.
  std::string out(folded.size(), '\0');
  char* const begin = out.data();
  char* o = begin;
  for (std::size_t i = 0; i < folded.size();) {
    const char c = folded[i];
    if (IsAsciiAlnum(c)) {  // most bytes: copied as they are
      *o++ = c;
      ++i;
      continue;
    }
    const std::size_t start = i;
    const char32_t cp = NextCodePoint(folded, i);
    if (IsSentenceEnd(cp)) {
      if (o != begin && o[-1] == ' ') --o;
      if (o != begin && o[-1] != '\n') *o++ = '\n';
    } else if (IsSeparator(cp)) {
      if (o != begin && o[-1] != ' ' && o[-1] != '\n') *o++ = ' ';
    } else {
      o = std::copy(folded.begin() + start, folded.begin() + i, o);
    }
  }
  if (o != begin && (o[-1] == ' ' || o[-1] == '\n')) --o;
  out.resize(static_cast<std::size_t>(o - begin));
  return out;
}

std::size_t FindWord(std::string_view hay, std::string_view word, std::size_t from) {
  if (word.empty()) return std::string_view::npos;
  for (std::size_t pos = hay.find(word, from); pos != std::string_view::npos;
       pos = hay.find(word, pos + 1)) {
    const bool before_ok = pos == 0 || !IsAsciiAlnum(hay[pos - 1]) || !IsAsciiAlnum(word[0]);
    if (before_ok && EndsWord(hay, pos, word)) return pos;
  }
  return std::string_view::npos;
}

KeywordIndex::KeywordIndex(std::vector<Keyword> keywords) : keywords_(std::move(keywords)) {
  // A counting sort of the keyword numbers by first byte; empty keywords match nowhere.
  for (const Keyword& k : keywords_) {
    if (!k.text.empty()) ++bucket_start_[static_cast<unsigned char>(k.text[0]) + 1];
  }
  for (std::size_t b = 1; b < bucket_start_.size(); ++b) bucket_start_[b] += bucket_start_[b - 1];
  by_first_byte_.resize(bucket_start_.back());
  std::array<std::size_t, 256> next{};
  std::copy(bucket_start_.begin(), bucket_start_.end() - 1, next.begin());
  for (std::size_t k = 0; k < keywords_.size(); ++k) {
    if (keywords_[k].text.empty()) continue;
    by_first_byte_[next[static_cast<unsigned char>(keywords_[k].text[0])]++] = k;
  }
  for (const Keyword& k : keywords_) {
    if (k.text.empty()) continue;
    const std::size_t b0 = static_cast<unsigned char>(k.text[0]);
    for (std::size_t b1 = 0; b1 < 256; ++b1) {
      if (k.text.size() == 1 || b1 == static_cast<unsigned char>(k.text[1])) {
        first_pairs_.set(b0 * 256 + b1);
      }
    }
  }
}

std::size_t KeywordIndex::MatchAt(std::string_view hay, std::size_t pos,
                                  std::vector<std::size_t>& first) const {
  std::size_t found = 0;
  const auto b = static_cast<unsigned char>(hay[pos]);
  for (std::size_t j = bucket_start_[b]; j < bucket_start_[b + 1]; ++j) {
    const std::size_t k = by_first_byte_[j];
    const std::string_view word = keywords_[k].text;
    if (first[k] != std::string_view::npos || hay.size() - pos < word.size()) continue;
    // Most candidates differ in their second byte: a cheap test before the memcmp.
    if (word.size() > 1 && hay[pos + 1] != word[1]) continue;
    if (hay.compare(pos, word.size(), word) != 0 || !EndsWord(hay, pos, word)) continue;
    first[k] = pos;
    ++found;
  }
  return found;
}

std::vector<std::size_t> KeywordIndex::FirstHits(std::string_view hay) const {
  std::vector<std::size_t> first(keywords_.size(), std::string_view::npos);
  std::size_t missing = by_first_byte_.size();
  for (std::size_t pos = 0; pos < hay.size() && missing > 0;) {
    const bool pair_starts =
        pos + 1 == hay.size() || first_pairs_[static_cast<unsigned char>(hay[pos]) * 256u +
                                              static_cast<unsigned char>(hay[pos + 1])];
    if (pair_starts) missing -= MatchAt(hay, pos, first);
    // FindWord's rule for the byte before: no keyword starts inside a latin word (one
    // starting with a letter or digit would need a boundary before it; any other starts
    // with a byte that is not a letter or digit). So the rest of the word is skipped.
    ++pos;
    if (IsAsciiAlnum(hay[pos - 1])) {
      while (pos < hay.size() && IsAsciiAlnum(hay[pos])) ++pos;
    }
  }
  return first;
}

const KeywordIndex& BuiltinKeywords() {
  static const KeywordIndex kKeywords = [] {
    std::vector<Keyword> v;
    for (const RawKeyword& k : kRawKeywords) v.push_back({k.kind, MatchForm(k.text)});
    return KeywordIndex(std::move(v));
  }();
  return kKeywords;
}

std::span<const std::string_view> MarketingNouns() { return kMarketingNouns; }
std::span<const std::string_view> ReplyPrefixes() { return kReplyPrefixes; }
std::span<const std::string_view> AutoReplySubjects() { return kAutoReplySubjects; }
std::span<const std::string_view> BounceSubjects() { return kBounceSubjects; }
std::span<const UsernameLabel> UsernameLabels() { return kUsernameLabels; }
std::span<const std::string_view> ServiceLabels() { return kServiceLabels; }
std::span<const FieldLabel> FieldLabels() { return kFieldLabels; }
std::span<const std::string_view> NewValueWords() { return kNewValueWords; }

const std::vector<char32_t>& TraditionalOnlyHan() {
  static const std::vector<char32_t> kChars = SortedCodePoints(kTraditionalOnly);
  return kChars;
}

const std::vector<char32_t>& SimplifiedOnlyHan() {
  static const std::vector<char32_t> kChars = SortedCodePoints(kSimplifiedOnly);
  return kChars;
}

}  // namespace mailreqd
