// The MIME layer: header blocks, Content-Type, multipart bodies and transfer encodings
// (RFC 2045/2046). The only file that includes mimetic; it never lets a mimetic exception
// out.
//
// Why the entity tree is split here and not by mimetic::MimeEntity (measured on Debian's
// mimetic 0.9.8, see the parser report): MimeEntity recurses without a depth limit (a
// 20,000-level nest overflows the stack), a 2 MB header field in ANY nested part takes
// 0.6-2.5 s (superlinear; 10 MB took 70 s), and its Content-Type parser splits quoted
// parameters at ";" (boundary="a;b" -> "\"a"). Guarding those needs our own scan of every
// part's headers, which is already the whole splitter. mimetic still decodes base64 and
// quoted-printable bodies (mimetic::Base64 / mimetic::QP).
//
// All functions take views into the caller's buffer and never copy a body they do not
// decode: skipping a 20 MB attachment costs one scan for the next boundary.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/message.h"

namespace mailreqd {

// One entity's header fields and the body that follows the blank line.
struct HeaderBlock {
  std::vector<HeaderField> fields;  // names lower-case, values unfolded, valid UTF-8
  std::string_view body;            // view into the input
  std::vector<std::string> defects;

  // First value of `lower_name`, or "".
  std::string_view Get(std::string_view lower_name) const;
};

// Splits `entity` at its first empty line (RFC 5322 §2.1). Lenient: bare LF, a leading
// mbox "From " line (skipped), a line without a colon (ends the header; the rest is body,
// as Python's email package does). Values longer than `max_value` bytes are cut.
HeaderBlock SplitHeaderBlock(std::string_view entity, std::size_t max_value);

struct ContentType {
  std::string type = "text";    // lower-case
  std::string subtype = "plain";
  std::map<std::string, std::string> params;  // names lower-case, values unquoted
  bool present = false;                       // false: the RFC 2045 §5.2 default

  std::string Full() const { return type + "/" + subtype; }
  std::string Param(const std::string& lower_name) const;
  bool IsMultipart() const { return type == "multipart"; }
};

// Parses a Content-Type value (RFC 2045 §5.1: quoted strings, comments). An empty or
// unusable value gives the default text/plain with present = false.
ContentType ParseContentType(std::string_view value);

// The disposition type ("inline", "attachment"), lower-case; "" when absent (RFC 2183).
std::string DispositionType(std::string_view value);

struct MultipartBody {
  std::vector<std::string_view> parts;  // each part's headers + body, CRLF before delimiter cut
  bool closed = false;                  // the close delimiter "--boundary--" was seen
  bool truncated = false;               // stopped at max_parts
};

// Splits a multipart body at lines "--boundary" (RFC 2046 §5.1.1); preamble and epilogue
// are dropped. Linear in body size for any boundary.
MultipartBody SplitMultipart(std::string_view body, std::string_view boundary,
                             std::size_t max_parts);

// Undoes a Content-Transfer-Encoding (base64, quoted-printable; anything else is returned
// as is). Lenient on bad input; never throws.
std::string DecodeTransfer(std::string_view encoding, std::string_view body);
// True when DecodeTransfer returns the body unchanged (7bit, 8bit, binary, unknown).
bool IsIdentityTransfer(std::string_view encoding);
// mimetic's Base64::Decoder and QP::Decoder (lenient on malformed input); well-formed
// quoted-printable is decoded by our own faster code to the same result
// (quoted_printable.h). WithMimetic always uses mimetic: for the tests that compare.
std::string DecodeBase64(std::string_view text);
std::string DecodeQuotedPrintable(std::string_view body);
std::string DecodeQuotedPrintableWithMimetic(std::string_view body);

}  // namespace mailreqd
