// Who may ask: pure rules deciding which account a mail speaks for and whether the
// sender proved they own it. Anyone can type a username and forge a From line, so only
// a From equal to the account's registered address acts at once; anything else goes
// through a confirmation sent to the registered address (never to the sender).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/store.h"

namespace mailreqd {

enum class Verification {
  kVerified,    // From is the account's registered address
  kUnverified,  // an account was named, but From is someone else
  kNoAccount,   // no account could be identified
};

struct Identity {
  Verification verification = Verification::kNoAccount;
  std::optional<Customer> account;
};

// Lower-cased, trimmed; "" for something that is not local@domain.
std::string NormalizeAddress(const std::string& addr);

// `by_username` is the account the mail names (if it names one that exists);
// `by_sender` the accounts registered to the sender's address. When no username is
// given and exactly one account has the sender's address, that account is meant.
Identity ResolveIdentity(const std::string& sender, const std::optional<std::string>& username,
                         const std::optional<Customer>& by_username,
                         const std::vector<Customer>& by_sender);

}  // namespace mailreqd
