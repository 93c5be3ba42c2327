// RFC 5322 §3.4 address lists (From, Reply-To, To) -> Address{name, addr}.
// Contract: any input, never fails. Accepts "Name <a@b>", "a@b (Comment)" (the comment
// becomes the name when there is no phrase), quoted names with \-escapes, RFC 2047
// encoded-word names (decoded, also when wrongly quoted), groups "team: a@b, c@d;" (the
// members are listed, the group name dropped), source routes "<@relay:a@b>", and
// local-only addresses such as "MAILER-DAEMON". A mailbox whose address is garbage keeps
// its name with addr == ""; the null path "<>" gives addr == "".
#pragma once

#include <string_view>
#include <vector>

#include "parsers/message.h"

namespace mailreqd {

std::vector<Address> ParseAddressList(std::string_view value);

// The first mailbox of the list, or an empty Address when there is none.
Address ParseAddress(std::string_view value);

}  // namespace mailreqd
