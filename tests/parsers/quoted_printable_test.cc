// The fast quoted-printable path against mimetic's decoder: what any text decodes to
// must be what mimetic made of it, whichever path decodes it.
#include "parsers/quoted_printable.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "parsers/mime_adapter.h"

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

TEST_CASE("DecodeWellFormedQuotedPrintable decodes well-formed text", "[qp]") {
  CHECK(DecodeWellFormedQuotedPrintable("caf=C3=a9 ok") == "caf\xC3\xA9 ok");
  CHECK(DecodeWellFormedQuotedPrintable("soft=\r\nbreak=\nend") == "softbreakend");
  CHECK(DecodeWellFormedQuotedPrintable("a\r\n\r\nb\nc") == "a\n\nb\nc");
  CHECK(DecodeWellFormedQuotedPrintable("tab\there \x7F\xC3") == "tab\there \x7F\xC3");
  CHECK(DecodeWellFormedQuotedPrintable("") == "");
}

TEST_CASE("DecodeWellFormedQuotedPrintable leaves anything else to mimetic", "[qp]") {
  using namespace std::string_literals;
  for (const std::string& odd : {"="s, "=4"s, "=4G"s, "= x"s, "=\r"s, "end=\n"s, "trail \r\nx"s,
                                 "end\t"s, "lone\rcr"s, "a\n\rb"s, "ctl\x01"s, "nul\0x"s}) {
    INFO(odd);
    CHECK_FALSE(DecodeWellFormedQuotedPrintable(odd).has_value());
  }
}

// Short strings over the pieces that matter to QP, so that every odd neighbourhood
// (blanks before breaks, "=" before anything, CR and LF in every order) comes up;
// `odd` pieces (a lone CR, a control byte) rarer, so that many strings are well-formed.
std::string RandomQp(std::mt19937& rng) {
  static const char* const kPieces[] = {"a", "Z", " ", "\t", "=", "=3D", "=c3", "=\r\n", "=\n",
                                        "3", "d", "g", "\r\n", "\n", "\xC3", "\x7F", "."};
  static const char* const kOdd[] = {"\r", "\x01", "\n\r"};
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<size_t> odd(0, std::size(kOdd) - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<size_t> length(0, 16);
  std::string s;
  for (size_t n = length(rng); n > 0; --n) s += percent(rng) < 3 ? kOdd[odd(rng)] : kPieces[pick(rng)];
  return s;
}

TEST_CASE("DecodeQuotedPrintable equals mimetic's decoder on random text", "[qp]") {
  std::mt19937 rng(20261126);
  int fast = 0;
  for (int n = 0; n < 200000; ++n) {
    const std::string s = RandomQp(rng);
    const std::string expected = DecodeQuotedPrintableWithMimetic(s);
    if (DecodeWellFormedQuotedPrintable(s)) ++fast;
    if (DecodeQuotedPrintable(s) != expected) {
      INFO("input: " << s);
      CHECK(DecodeQuotedPrintable(s) == expected);
      break;
    }
  }
  CHECK(fast > 5000);  // the fast path was tried on many, not only the fallback
}

TEST_CASE("DecodeQuotedPrintable equals mimetic's decoder on the shared corpus", "[qp][corpus]") {
  const fs::path corpus = fs::path(MAILREQD_SHARED_DIR) / "corpus";
  if (!fs::exists(corpus)) {
    WARN("SKIPPED: " << corpus << " is absent (the shared corpus of real mail)");
    return;
  }
  // Whole files as QP input: real line ends, real "=" runs, HTML and headers.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string raw = text.str();
    INFO(entry.path());
    CHECK(DecodeQuotedPrintable(raw) == DecodeQuotedPrintableWithMimetic(raw));
    ++files;
  }
  CHECK(files >= 552);
}

}  // namespace
}  // namespace mailreqd
