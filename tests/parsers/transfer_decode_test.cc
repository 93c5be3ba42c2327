// The base64 and quoted-printable decoders (mimetic's), quirks included: what mail decodes
// to must not change under us, for instance with another mimetic version.
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "parsers/mime_adapter.h"

namespace mailreqd {
namespace {

using namespace std::string_literals;
using Case = std::pair<std::string, std::string>;  // input, what mimetic decoded

TEST_CASE("DecodeQuotedPrintable decodes escapes, soft and hard line breaks", "[mime]") {
  auto [in, out] = GENERATE(values<Case>({
      {"caf=C3=A9 ok", "caf\xC3\xA9 ok"},
      {"=3d=3D", "=="},
      {"soft=\r\nbreak", "softbreak"},
      {"soft=\nbreak", "softbreak"},
      {"= \r\nx", "x"},      // blanks after a soft break's "=" are padding
      {"=  \t\r\nx", "x"},
      {"hard\r\nbreak\r\n", "hard\nbreak\n"},  // hard breaks come out as LF
      {"x\r\n\r\ny", "x\n\ny"},
      {"lone\rcr", "lone\ncr"},
      {"a\n\rb", "a\nb"},    // LF CR is one break too
      {"tab\there", "tab\there"},
  }));
  CHECK(DecodeQuotedPrintable(in) == out);
}

TEST_CASE("DecodeQuotedPrintable keeps mimetic's handling of malformed input", "[mime]") {
  auto [in, out] = GENERATE(values<Case>({
      {"=", "="},
      {"=4", "=4"},
      {"=4G", "=4G"},
      {"=G4", "=G4"},
      {"= x", "= x"},
      {"a\x01" "b\x7F\xC3", "ab\x7F\xC3"},  // control characters dropped, 8-bit kept
      {"trail  \r\nx", "trail\nx"},            // trailing blanks dropped
      {"trail \nx", "trailx"},                 // ...and a bare LF after them with them
      {"end with blanks  ", "end with blanks="},  // blanks at the very end become "="
      {"end\t", "end="},
  }));
  CHECK(DecodeQuotedPrintable(in) == out);
}

TEST_CASE("DecodeBase64 decodes and keeps mimetic's handling of malformed input", "[mime]") {
  auto [in, out] = GENERATE(values<Case>({
      {"QUJD", "ABC"},
      {"QUJDRA==", "ABCD"},
      {"QUJDRA", "ABCD"},      // missing padding
      {"QUJDR", "ABC"},        // a lone trailing character is dropped
      {"QUJ\r\nD", "ABC"},
      {"QU*JD!", "ABC"},       // characters outside the alphabet are skipped
      {"QQ==QUJD", "AABC"},
      {"Q=Q=", "BD"},
      {"=QUJ", "\x91\x05\x09"},  // "=" not at the end still counts (as 100)
      {"QU|JD", "A@\x09"},       // "|" is 0: mimetic reads past its table there
      {"||||", "\0\0\0"s},
      {"Q", ""},
      {"w6k=", "\xC3\xA9"},
  }));
  CHECK(DecodeBase64(in) == out);
}

TEST_CASE("DecodeTransfer picks the decoder by Content-Transfer-Encoding", "[mime]") {
  CHECK(DecodeTransfer(" Base64 ", "QUJD") == "ABC");
  CHECK(DecodeTransfer("QUOTED-PRINTABLE", "a=3Db") == "a=b");
  CHECK(DecodeTransfer("8bit", "a=3Db") == "a=3Db");
  CHECK(IsIdentityTransfer("7bit"));
  CHECK(IsIdentityTransfer(""));
  CHECK_FALSE(IsIdentityTransfer("base64"));
  CHECK_FALSE(IsIdentityTransfer(" Quoted-Printable"));
}

}  // namespace
}  // namespace mailreqd
