#include "parsers/encoded_words.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "parsers/charset.h"

namespace mailreqd {
namespace {

TEST_CASE("DecodeEncodedWords decodes Q and B words in any charset", "[encoded_words]") {
  CHECK(DecodeEncodedWords("=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=") == "Grüße aus Köln");
  CHECK(DecodeEncodedWords("=?utf-8?b?5Lit5paH5ris6Kmm?=") == "中文測試");
  CHECK(DecodeEncodedWords("=?gb2312?B?zcu2qc2o1qo=?=") == "退订通知");
  CHECK(DecodeEncodedWords("=?big5?Q?=B4=FA=B8=D5?=") == "測試");
  CHECK(DecodeEncodedWords("=?windows-1252?q?=93hi=94?=") == "“hi”");
  CHECK(DecodeEncodedWords("=?utf-8*en?Q?hello?=") == "hello");  // RFC 2231 §5 language
}

TEST_CASE("DecodeEncodedWords joins adjacent words and keeps other spaces", "[encoded_words]") {
  CHECK(DecodeEncodedWords("=?utf-8?Q?a?= =?utf-8?Q?b?=") == "ab");
  CHECK(DecodeEncodedWords("=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=") == "ab");  // folded
  CHECK(DecodeEncodedWords("Re: =?utf-8?Q?caf=C3=A9?= now") == "Re: café now");
  CHECK(DecodeEncodedWords("=?utf-8?Q?a_?= b") == "a  b");
  // One UTF-8 character split over two B words survives because the bytes are joined.
  CHECK(DecodeEncodedWords("=?UTF-8?B?5Lit5g==?= =?UTF-8?B?loc=?=") == "中文");
  CHECK(DecodeEncodedWords("=?iso-8859-1?Q?=E9?= =?utf-8?Q?=C3=A9?=") == "éé");
}

TEST_CASE("DecodeEncodedWords unfolds plain folded text", "[encoded_words]") {
  CHECK(DecodeEncodedWords("a long\r\n subject") == "a long subject");
  CHECK(DecodeEncodedWords("a long\n\tsubject") == "a long\tsubject");
  CHECK(Unfold("x\r\n y\r\nz") == "x y z");
}

TEST_CASE("DecodeEncodedWords is lenient on malformed words", "[encoded_words]") {
  CHECK(DecodeEncodedWords("=?utf-8?X?abc?=") == "=?utf-8?X?abc?=");
  CHECK(DecodeEncodedWords("=?utf-8?Q?unterminated") == "=?utf-8?Q?unterminated");
  CHECK(DecodeEncodedWords("=??Q?x?=") == "=??Q?x?=");
  CHECK(DecodeEncodedWords("=?utf-8?Q?bad=ZZhex?=") == "bad=ZZhex");
  CHECK(DecodeEncodedWords("=?utf-8?B?!!!5Lit?=") == "中");
  CHECK(DecodeEncodedWords("=?x-unknown?Q?abc?=") == "abc");
  CHECK(DecodeEncodedWords("=?utf-8?Q?Hello World?=") == "Hello World");  // spaces inside
  CHECK(DecodeEncodedWords("pre=?utf-8?Q?glued?=post") == "pregluedpost");
  CHECK(DecodeEncodedWords("raw 8-bit caf\xC3\xA9") == "raw 8-bit café");
  CHECK(IsValidUtf8(DecodeEncodedWords("raw \xFF junk =?utf-8?B?/w==?=")));
  CHECK(DecodeEncodedWords("") == "");
}

TEST_CASE("DecodeEncodedWords stays linear on a megabyte of word fragments", "[encoded_words]") {
  std::string s;
  while (s.size() < (1u << 20)) s += "=?utf-8?Q?ab";
  auto t0 = std::chrono::steady_clock::now();
  std::string out = DecodeEncodedWords(s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(out.size() == s.size());
  CHECK(secs < 1.0);
}

}  // namespace
}  // namespace mailreqd
