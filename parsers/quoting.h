// Quoting: cut a mail body down to the customer's own words. Pure.
//
// Commands and usernames are read only from what the customer wrote, never from the
// text they quote (our earlier mail, a forwarded mail) or their signature. What is cut:
//   - quoted lines, starting with ">" (RFC 3676 §4.5), wherever they are;
//   - reply attributions: "On <date>, <who> wrote:" (also wrapped over two lines by
//     Gmail, or "<who> <addr> wrote:"), "在 ... 写道：", "於 ... 寫道：", "... schrieb:",
//     "... a écrit :". When ">" lines follow, only the attribution is cut (the customer
//     may answer below or between the quotes); otherwise everything from it on;
//   - everything from a separator line: "-----Original Message-----", "-----原始邮件-----",
//     QQ's "------------------ 原始邮件 ------------------", Outlook's line of underscores,
//     "---------- Forwarded message ---------", "Begin forwarded message:";
//   - everything from Outlook's quoted header block: a "From:"/"发件人:"/"寄件者:" line
//     followed within a few lines by "Sent:", "Date:", "To:", "Subject:" or their Chinese forms;
//   - the signature: everything after a "-- " line (RFC 3676 §4.3; "--" accepted, since
//     many clients strip the trailing space).
// The confirmation token is NOT searched here: it lives in the quoted text on purpose.
#pragma once

#include <string>
#include <string_view>

namespace mailreqd {

// The customer's own lines of `body`, joined with '\n' (CR dropped, order kept, trailing
// blank lines dropped).
// Linear in the size of body; lines after the first cut are not examined.
std::string CustomerWords(std::string_view body);

}  // namespace mailreqd
