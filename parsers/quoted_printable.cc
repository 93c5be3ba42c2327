#include "parsers/quoted_printable.h"

#include <array>
#include <cstring>

namespace mailreqd {
namespace {

// Bytes copied as they are: printable ASCII but '=', and every 8-bit byte. Blanks and
// line ends are looked at one by one.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c < 256; ++c) t[c] = c != '=';  // DEL (127) too: mimetic keeps it
  return t;
}();

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

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
      const int hi = i + 2 < n ? HexValue(body[i + 1]) : -1;
      const int lo = i + 2 < n ? HexValue(body[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        *o++ = static_cast<char>(hi * 16 + lo);
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
