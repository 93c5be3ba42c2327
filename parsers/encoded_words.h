// RFC 2047 encoded-word decoding for header values ("=?charset?B|Q?text?=").
// Contract: any byte string in, valid UTF-8 out, never an error. Lenient where real mail
// is broken: lower-case b/q, RFC 2231 language suffixes (=?utf-8*en?Q?..?=), words glued to
// text, malformed words kept literally, raw 8-bit text read as UTF-8 (U+FFFD if not).
#pragma once

#include <string>
#include <string_view>

namespace mailreqd {

// Removes line breaks that are followed by a space or tab (RFC 5322 §2.2.3 unfolding).
std::string Unfold(std::string_view value);

// `value` (possibly folded) with every encoded word decoded to UTF-8. Whitespace between
// two adjacent encoded words is dropped (RFC 2047 §6.2); adjacent words in the same
// charset are decoded together, so a character split across two words survives.
std::string DecodeEncodedWords(std::string_view value);

}  // namespace mailreqd
