// JSON for the operator commands: `mailreqd show USER` and `mailreqd requests --json`.
// One object per call, no trailing newline; the field order is fixed (scripts and
// tests compare whole lines).
#pragma once

#include <string>
#include <vector>

#include "daemon/period.h"
#include "daemon/store.h"

namespace mailreqd {

// {"username","email","name","postal_address","telephone","fax","marketing_opt_in":bool,
//  "subscriptions":[{"service","period","anchor","status","ends_on"}]}
// status is EffectiveStatus(s, today) (active | cancelling | ended); anchor and ends_on
// are YYYY-MM-DD, ends_on null when unset.
std::string CustomerJson(const Customer& c, const std::vector<Subscription>& subs, Date today);
std::string SubscriptionJson(const Subscription& s, Date today);

// {"id","key","message_id","arrived":unix seconds,"sender","kind","username","outcome",
//  "detail","due_on":YYYY-MM-DD or null,"folder"}
std::string RequestJson(const RequestRecord& r);

}  // namespace mailreqd
