#include "parsers/quoted_printable.h"

#include <array>
#include <cstring>

namespace mailreqd {
namespace {

// 0-15 for a hex digit, 16 for anything else.
constexpr std::array<unsigned char, 256> kHexValue = [] {
  std::array<unsigned char, 256> t{};
  for (auto& v : t) v = 16;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<unsigned char>(c);
  for (int c = 0; c < 6; ++c) {
    t['A' + c] = static_cast<unsigned char>(10 + c);
    t['a' + c] = static_cast<unsigned char>(10 + c);
  }
  return t;
}();

// Bytes copied as they are: printable ASCII but '=', and every 8-bit byte. Blanks and
// line ends are looked at one by one.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c < 256; ++c) t[c] = c != '=';  // DEL (127) too: mimetic keeps it
  return t;
}();

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<std::string> DecodeWellFormedQuotedPrintable(std::string_view body) {
  std::string out(body.size(), '\0');  // decoding never lengthens
  char* o = out.data();
  const size_t n = body.size();
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && kPlain[static_cast<unsigned char>(body[run])]) ++run;
    std::memcpy(o, body.data() + i, run - i);
    o += run - i;
    i = run;
    if (i == n) break;
    const char c = body[i];
    if (c == '=') {
      if (i + 2 < n && kHexValue[static_cast<unsigned char>(body[i + 1])] < 16 &&
          kHexValue[static_cast<unsigned char>(body[i + 2])] < 16) {
        *o++ = static_cast<char>(kHexValue[static_cast<unsigned char>(body[i + 1])] << 4 |
                                 kHexValue[static_cast<unsigned char>(body[i + 2])]);
        i += 3;
      } else if (i + 2 < n && body[i + 1] == '\n') {
        i += 2;  // soft break (mimetic keeps "=" of one that ends the text: left to it)
      } else if (i + 2 < n && body[i + 1] == '\r' && body[i + 2] == '\n') {
        i += 3;
      } else {
        return std::nullopt;
      }
    } else if (IsBlank(c)) {
      // A blank must have something on its line after it.
      if (i + 1 == n || body[i + 1] == '\r' || body[i + 1] == '\n') return std::nullopt;
      *o++ = c;
      ++i;
    } else if (c == '\n' && (i + 1 == n || body[i + 1] != '\r')) {
      *o++ = '\n';  // (mimetic reads LF CR as one break: left to it)
      ++i;
    } else if (c == '\r' && i + 1 < n && body[i + 1] == '\n') {
      *o++ = '\n';
      i += 2;
    } else {
      return std::nullopt;  // a lone CR, or a control byte
    }
  }
  out.resize(static_cast<size_t>(o - out.data()));
  return out;
}

}  // namespace mailreqd
