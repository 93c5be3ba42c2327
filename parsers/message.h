// Message: one received mail, normalized. ParseMessage turns raw RFC 5322 bytes into it.
// Pure: no I/O, no clock. Everything textual is UTF-8 (invalid input degrades to U+FFFD).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"

namespace mailreqd {

struct Address {
  std::string name;  // display name, decoded to UTF-8; may be empty
  std::string addr;  // local@domain as written (not lower-cased); empty if unparseable
};

struct HeaderField {
  std::string name;   // lower-cased field name
  std::string value;  // unfolded raw value (encoded words NOT decoded)
};

struct Message {
  Address from;
  std::vector<Address> reply_to;
  bool has_return_path = false;
  std::string return_path;  // address inside <>; empty for the null path "<>"
  std::string message_id;   // without <>; empty when absent (never invented)
  std::string in_reply_to;  // without <>
  std::vector<std::string> references;  // without <>, oldest first
  std::string date;                      // raw Date: value
  std::string subject;                   // decoded to UTF-8
  std::string content_type;              // top-level "type/subtype", lower-case
  std::string report_type;               // report-type param of multipart/report, lower-case
  std::vector<std::string> part_types;   // every leaf's "type/subtype", in order
  std::vector<HeaderField> headers;      // all top-level fields, in order
  std::string body_text;                 // the chosen text part as UTF-8 (HTML turned to text)
                                         // line breaks are "\n"; cut at max_text_bytes
  std::vector<std::string> defects;      // what was wrong and repaired or skipped

  // First value of a header (name lower-case), or empty.
  std::string Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

// Limits applied before mimetic sees the bytes (it recurses without bound and is
// superlinear on long lines; see ../shared/NOTES-libraries.md).
struct ParseLimits {
  std::size_t max_message_bytes = 25u << 20;  // larger: Permanent error, kept for a human
  std::size_t max_header_line = 64u << 10;    // longer header lines are cut (a defect)
  int max_depth = 32;                         // deeper multipart nesting is not descended
  int max_parts = 1000;                       // more leaves are ignored (a defect)
  std::size_t max_text_bytes = 1u << 20;      // body text kept for classification
};

// Never throws. Returns a Permanent error only when the input cannot be a message at
// all (over max_message_bytes); anything else parses best-effort with defects noted.
Result<Message> ParseMessage(std::string_view raw, const ParseLimits& limits = {});

}  // namespace mailreqd
