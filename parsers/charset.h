// Charset conversion to UTF-8 (iconv from glibc). Pure apart from iconv's own tables.
// Contract: every function returns valid UTF-8 and never fails: bytes that cannot be
// converted (unknown charset, a charset label that lies, truncated sequences) become
// U+FFFD. Charset names are matched case-insensitively, quotes and RFC 2231 language
// suffixes ("utf-8*en") are ignored, and common aliases are mapped (see charset.cc).
#pragma once

#include <string>
#include <string_view>

namespace mailreqd {

// True if `bytes` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// `bytes` unchanged if valid UTF-8, else each ill-formed sequence replaced by U+FFFD.
std::string MakeValidUtf8(std::string_view bytes);
// The same, taking ownership: valid input (the usual case) is returned without a copy.
std::string MakeValidUtf8Owned(std::string bytes);

// `bytes` in `charset` converted to UTF-8. An empty or unknown charset is read as UTF-8
// (with U+FFFD for what is not UTF-8).
std::string ToUtf8(std::string_view bytes, std::string_view charset);
// The same, taking ownership: UTF-8 and ASCII text that is already valid is not copied.
std::string ToUtf8Owned(std::string bytes, std::string_view charset);

// The iconv name mailreqd uses for a MIME charset label, or "" if it is not supported.
// Exposed for tests: "gb2312" -> "GB18030", "latin1" -> "ISO-8859-1", "utf8" -> "UTF-8".
std::string CanonicalCharset(std::string_view label);

}  // namespace mailreqd
