#include "parsers/keywords.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace mailreqd {
namespace {

TEST_CASE("FoldWidth maps full-width forms and the ideographic space to ASCII", "[keywords]") {
  CHECK(FoldWidth("Ｕｓｅｒ：Ｂｏｂ", false) == "User:Bob");
  CHECK(FoldWidth("Ｕｓｅｒ：Ｂｏｂ", true) == "user:bob");
  CHECK(FoldWidth("A\u3000B", true) == "a b");  // U+3000 is E3 80 80
  // Not folded: other U+FFxx forms (U+FF5F), and sequences cut short by the end.
  CHECK(FoldWidth("\xEF\xBD\x9F", true) == "\xEF\xBD\x9F");
  CHECK(FoldWidth("X\xEF\xBC", true) == "x\xEF\xBC");
  CHECK(FoldWidth("X\xE3\x80", false) == "X\xE3\x80");
  // Text after the first fold moves down in place.
  CHECK(FoldWidth("ＡＢC退訂\u3000ｄ", true) == "abc退訂 d");
}

TEST_CASE("LowerAsciiInPlace lower-cases A-Z and leaves every other byte", "[keywords]") {
  // Every byte value at every offset of a 19-byte string: the eight-byte steps and the
  // byte-wise tail both see each one.
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const char want = b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : c;
    for (std::size_t at = 0; at < 19; ++at) {
      std::string s(19, 'Q');
      s[at] = c;
      std::string expected(19, 'q');
      expected[at] = want;
      LowerAsciiInPlace(s);
      INFO("byte " << b << " at " << at);
      CHECK(s == expected);
    }
  }
}

TEST_CASE("MatchFormOfFolded on folded text is MatchForm", "[keywords]") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "Unsubscribe!", "  Ｕｎｓｕｂｓｃｒｉｂｅ。退訂 ",
               "a\u3000\u3000b", "x\xEF\xBC", "Hi -- there?\n\nbye.");
  CHECK(MatchFormOfFolded(FoldWidth(text, true)) == MatchForm(text));
  // Folding twice changes nothing, so a folded subject can be passed again.
  CHECK(MatchFormOfFolded(FoldWidth(FoldWidth(text, true), true)) == MatchForm(text));
}

TEST_CASE("KeywordIndex finds each keyword where FindWord finds it", "[keywords]") {
  const std::vector<Keyword> keywords = {
      {RequestKind::kUnsubscribe, "unsubscribe"},
      {RequestKind::kUnsubscribe, "cancel my subscription"},
      {RequestKind::kCorrection, "correction"},
      {RequestKind::kCorrection, "correct my data"},
      {RequestKind::kMarketingOptOut, "newsletter"},
      {RequestKind::kUnsubscribe, "退訂"},
      {RequestKind::kAccess, "查閱資料"},
      {RequestKind::kPolicy, ""},             // empty: never found
      {RequestKind::kPolicy, "unsubscribe"},  // the same text twice: found twice
      {RequestKind::kAccess, "x"},
  };
  const KeywordIndex index(keywords);
  const std::string hay = GENERATE(
      as<std::string>{}, "", "unsubscribe", "unsubscribes", "unsubscribed please unsubscribe",
      "resubscribe unsubscribe", "please cancel my subscription now", "cancel my subscriptions",
      "corrections correct my data", "correct my database correction", "newsletters newsletter",
      "我想退訂", "請查閱資料 退訂了", "x", "xx x", "box x", "news\nletter newsletter",
      "9unsubscribe unsubscribe", "退訂unsubscribe", "unsubscribe退訂", "abc退訂x", "x\n");
  const std::vector<std::size_t> first = index.FirstHits(hay);
  REQUIRE(first.size() == keywords.size());
  for (std::size_t k = 0; k < keywords.size(); ++k) {
    INFO("hay \"" << hay << "\", keyword \"" << keywords[k].text << "\"");
    CHECK(first[k] == FindWord(hay, keywords[k].text));
  }
}

TEST_CASE("BuiltinKeywords keeps the built-in table in MatchForm", "[keywords]") {
  const std::vector<Keyword>& keywords = BuiltinKeywords().keywords();
  REQUIRE(!keywords.empty());
  for (const Keyword& k : keywords) CHECK(k.text == MatchForm(k.text));
}

}  // namespace
}  // namespace mailreqd
