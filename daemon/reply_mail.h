// Building a reply as a well-formed RFC 5322 message, headers in code (never from a
// template, so nothing a sender writes can add a header or a recipient).
//
// Every header value is sanitized first: CR, LF, NUL, other controls and DEL become spaces,
// runs of white space become one space, leading and trailing space is dropped, invalid
// UTF-8 becomes U+FFFD, and the text is cut (on a character boundary) to kMaxSubjectBytes
// for the subject and kMaxDisplayNameBytes for a display name. Addresses are not repaired:
// one that is not a plain ASCII local@domain makes BuildReplyMail fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"

namespace mailreqd {

inline constexpr size_t kMaxSubjectBytes = 400;
inline constexpr size_t kMaxDisplayNameBytes = 200;
// References keeps the first id and the newest ones up to this count (RFC 5322 §3.6.4
// lets it grow without bound; long threads would otherwise make huge headers).
inline constexpr size_t kMaxReferences = 20;

struct ReplyHeaders {
  std::string from;         // "Customer Service <support@shop.example>" or a bare address
  std::string to;           // the one recipient's address
  std::string to_name;      // optional display name
  std::string subject;      // UTF-8; CR/LF and controls are replaced by spaces
  std::string message_id;   // without <>; stable across retries of this reply
  std::string in_reply_to;  // the request's Message-ID without <>, may be empty
  std::vector<std::string> references;  // the request's References, without <>
  int64_t date = 0;  // unix seconds, rendered in RFC 5322 form (UTC offset +0000)
};

// The whole message with CRLF line ends: From, To, Subject (RFC 2047 when not ASCII), Date,
// Message-ID, In-Reply-To, References, Auto-Submitted: auto-replied (RFC 3834),
// MIME-Version, Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding
// 7bit or quoted-printable, X-Mailreqd: auto-reply marker; header lines folded within 78
// columns. References = `references` + `in_reply_to` (RFC 5322 §3.6.4), capped at
// kMaxReferences. Ids from the request that are not valid msg-ids (spaces, <, >, controls,
// no "@", longer than 250) are dropped rather than copied.
// `body_utf8` has LF or CRLF line ends; it is sent as 7bit when it is printable ASCII with
// lines of at most 76 octets, else as quoted-printable (RFC 2045 §6.7).
// Returns "" (and builds nothing) when ReplyHeadersError(h) is not ok: the caller must
// check, e.g. `if (raw.empty()) return ReplyHeadersError(h);`.
std::string BuildReplyMail(const ReplyHeaders& h, const std::string& body_utf8);

// Why BuildReplyMail would refuse `h`: Permanent when `from` or `to` is not a valid address
// (IsValidAddress) or `message_id` is not a valid msg-id; Ok otherwise. The message names
// the field, never its value (it may be personal data).
Status ReplyHeadersError(const ReplyHeaders& h);

// "<microseconds since the epoch, 14 hex digits>.<64 random bits in hex>@<domain>"
// without <>, for a new reply: ids made later sort later. The bits come from
// getrandom(2). An invalid `domain` is replaced by "mailreqd.invalid".
std::string NewMessageId(const std::string& domain);

// RFC 2047 B-encoding of a UTF-8 phrase when it is not plain ASCII; split into words of
// at most 75 characters on character boundaries. Returns `utf8` unchanged when it can be
// sent as is: printable ASCII, no "=?" (which a reader would decode), no word longer than
// 68 octets (which could not be folded); otherwise encoded words joined by single spaces,
// each at most 68 characters so that "Subject: " plus one word fits in 78 columns.
std::string EncodeHeaderWords(const std::string& utf8);

// True for a plain ASCII addr-spec: dot-atom local part, "@", a domain of letters, digits,
// "-" and "." (no IP literals, no quoted local parts, no UTF-8: RFC 5321 §4.1.2 subset).
bool IsValidAddress(std::string_view addr);

// The address part of "Name <addr>" or of a bare address; empty when not valid.
std::string AddressOf(std::string_view mailbox);

}  // namespace mailreqd
