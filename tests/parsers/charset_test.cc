#include "parsers/charset.h"

#include <catch2/catch.hpp>
#include <string>

namespace mailreqd {
namespace {

TEST_CASE("IsValidUtf8 accepts well-formed and rejects ill-formed UTF-8", "[charset]") {
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("中文 Grüße €"));
  CHECK(IsValidUtf8(std::string("nul\0inside", 10)));
  CHECK_FALSE(IsValidUtf8("\xC3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong "/"
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // UTF-16 surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xFF"));
}

TEST_CASE("MakeValidUtf8 replaces each bad byte with U+FFFD and keeps the rest", "[charset]") {
  CHECK(MakeValidUtf8("ok ü") == "ok ü");
  CHECK(MakeValidUtf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(MakeValidUtf8("\xE4\xB8") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(IsValidUtf8(MakeValidUtf8("\xC0\xAF\xED\xA0\x80\xF8\x88\x80\x80\x80")));
}

TEST_CASE("ToUtf8 converts the Western single-byte charsets", "[charset]") {
  CHECK(ToUtf8("Gr\xFC\xDF" "e", "iso-8859-1") == "Grüße");
  CHECK(ToUtf8("Gr\xFC\xDF" "e", "latin1") == "Grüße");
  CHECK(ToUtf8("\xA4", "ISO-8859-15") == "€");
  CHECK(ToUtf8("\x93quoted\x94 \x96 it\x92s", "windows-1252") == "“quoted” – it’s");
  CHECK(ToUtf8("\x93x\x94", "cp1252") == "“x”");
  CHECK(ToUtf8("\xEA", "windows-1251") == "к");
  CHECK(ToUtf8("\xF9", "iso-8859-8-i") == "ש");  // RFC 1556 logical-order Hebrew
}

TEST_CASE("ToUtf8 converts the East Asian charsets and their aliases", "[charset]") {
  CHECK(ToUtf8("\xB4\xFA\xB8\xD5\xB0\x68\xAD\x71", "big5") == "測試退訂");
  CHECK(ToUtf8("\xB4\xFA\xB8\xD5", "Big5-HKSCS") == "測試");
  CHECK(ToUtf8("\xCD\xCB\xB6\xA9", "gb2312") == "退订");
  CHECK(ToUtf8("\xCD\xCB\xB6\xA9", "GBK") == "退订");
  CHECK(ToUtf8("\xCD\xCB\xB6\xA9", "x-gbk") == "退订");
  CHECK(ToUtf8("\xCD\xCB\xB6\xA9", "gb18030") == "退订");
  CHECK(ToUtf8("\x93\xFA\x96\x7B", "shift_jis") == "日本");
  CHECK(ToUtf8("\xC7\xD1\xB1\xB9", "euc-kr") == "한국");
  CHECK(ToUtf8("\xC7\xD1\xB1\xB9", "ks_c_5601-1987") == "한국");
  CHECK(ToUtf8("\x1B$BF|K\\8l\x1B(B", "iso-2022-jp") == "日本語");
}

TEST_CASE("CanonicalCharset maps labels, quotes and RFC 2231 suffixes", "[charset]") {
  CHECK(CanonicalCharset("utf8") == "UTF-8");
  CHECK(CanonicalCharset("\"UTF-8\"") == "UTF-8");
  CHECK(CanonicalCharset("utf-8*en") == "UTF-8");
  CHECK(CanonicalCharset("gb2312") == "GB18030");
  CHECK(CanonicalCharset("ISO_8859-2") == "ISO-8859-2");
  CHECK(CanonicalCharset("koi8-r") == "KOI8-R");
  CHECK(CanonicalCharset("x-unknown-charset") == "");
  CHECK(CanonicalCharset("utf-8//TRANSLIT") == "");
  CHECK(CanonicalCharset("") == "");
}

TEST_CASE("IsValidUtf8 and MakeValidUtf8 find a bad byte at any offset in long ASCII",
          "[charset]") {
  // ASCII is skipped eight bytes at a time; a bad byte at each offset of a word must count.
  for (size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s[at] = '\xFF';
    CHECK_FALSE(IsValidUtf8(s));
    std::string want = std::string(at, 'a') + "\xEF\xBF\xBD" + std::string(39 - at, 'a');
    CHECK(MakeValidUtf8(s) == want);
    CHECK(MakeValidUtf8Owned(s) == want);
    s[at] = 'b';
    CHECK(IsValidUtf8(s));
  }
  CHECK(MakeValidUtf8("ok \xC3\xA9 \xFF\xFE ok \xE4\xB8 ok") ==
        "ok \xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD ok \xEF\xBF\xBD\xEF\xBF\xBD ok");
}

TEST_CASE("ToUtf8Owned gives what ToUtf8 gives", "[charset]") {
  for (const char* cs : {"utf-8", "us-ascii", "", "latin1", "big5", "x-no-such-charset"}) {
    for (std::string s : {"plain", "caf\xE9", "caf\xC3\xA9", "\xB4\xFA\xB8"}) {
      CHECK(ToUtf8Owned(s, cs) == ToUtf8(s, cs));
    }
  }
}

TEST_CASE("ToUtf8 never fails on unknown or lying charsets", "[charset]") {
  CHECK(ToUtf8("plain", "x-no-such-charset") == "plain");
  CHECK(ToUtf8("caf\xE9", "x-no-such-charset") == "caf\xEF\xBF\xBD");
  CHECK(ToUtf8("caf\xE9", "utf-8") == "caf\xEF\xBF\xBD");  // the label lies
  CHECK(ToUtf8("caf\xE9", "us-ascii") == "caf\xEF\xBF\xBD");
  CHECK(ToUtf8("\x81\x8D", "windows-1252") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // unassigned
  std::string cut = ToUtf8("\xB4\xFA\xB8", "big5");                         // truncated pair
  CHECK(cut.substr(0, 3) == "測");
  CHECK(IsValidUtf8(cut));
  std::string junk;
  for (int i = 0; i < 256; ++i) junk.push_back(static_cast<char>(i));
  for (const char* cs : {"big5", "gb2312", "shift_jis", "euc-kr", "iso-2022-jp", "utf-16", "utf-7"})
    CHECK(IsValidUtf8(ToUtf8(junk + junk, cs)));
}

}  // namespace
}  // namespace mailreqd
