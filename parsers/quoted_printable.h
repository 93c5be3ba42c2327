// Quoted-printable (RFC 2045 §6.7) decoding of well-formed text, fast.
//
// mimetic's QP::Decoder goes through a state machine and an output iterator per byte:
// it was 14% of parse + classify over the generated requests (callgrind), where most
// of the text needs no decoding at all. DecodeQuotedPrintable (mime_adapter.h) tries
// this first and keeps mimetic for the rest, so that what any mail decodes to stays
// mimetic's, quirks included.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailreqd {

// The decoded text when `body` is well-formed: every '=' starts "=XX" (two hex digits,
// either case) or a soft break "=\r\n" / "=\n" (not last); every CR is followed by LF,
// no LF by CR; no blank (space, tab) ends a line or the text; no control byte but TAB,
// CR, LF. Hard breaks come out as LF. Otherwise nullopt: the caller decodes another way.
std::optional<std::string> DecodeWellFormedQuotedPrintable(std::string_view body);

// 0-15 for a hex digit of either case, -1 for anything else: the "XX" of "=XX" here and
// in RFC 2047's Q encoding.
int HexValue(char c);

}  // namespace mailreqd
