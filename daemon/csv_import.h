// `mailreqd import-customers FILE.csv` and `import-subscriptions FILE.csv`: validating
// the CSV (pure, on text in memory) and applying it to the store in one transaction.
//
// Every error is "FILE:LINE: reason", LINE being the physical line (1-based, header on
// line 1) where the record starts. Every bad row is reported, each reason on its own
// line; reasons never quote field values (they are personal data). A file with any
// error imports nothing.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "daemon/period.h"
#include "daemon/status.h"
#include "daemon/store.h"

namespace mailreqd {

class SqliteStore;

inline constexpr std::string_view kCustomersHeader =
    "username,email,name,postal_address,telephone,fax,marketing_opt_in";
inline constexpr std::string_view kSubscriptionsHeader = "username,service,anchor";

// [A-Za-z0-9._-]{1,64}
bool IsValidUsername(std::string_view s);
// A pragmatic check, not RFC 5322: one "@", a non-empty local part, a dotted domain, no
// spaces, control characters, quotes or angle brackets, at most 254 bytes.
bool IsPlausibleEmail(std::string_view s);
// true/false/yes/no/1/0, any case.
std::optional<bool> ParseYesNo(std::string_view s);

struct CustomerRows {
  std::vector<Customer> rows;
  std::vector<std::string> errors;
};
// Checks the header, column count, username, email, marketing_opt_in and duplicate
// usernames within the file.
CustomerRows ValidateCustomersCsv(std::string_view text, const std::string& file);

struct SubscriptionRows {
  std::vector<Subscription> rows;  // period filled in from `services`; status "active"
  std::vector<std::string> errors;
};
// Checks the header, column count, username, that the username is a known customer,
// that the service is configured, the anchor (YYYY-MM-DD) and duplicate
// (username, service) pairs within the file.
SubscriptionRows ValidateSubscriptionsCsv(std::string_view text, const std::string& file,
                                          const std::map<std::string, BillingPeriod>& services,
                                          const std::unordered_set<std::string>& customers);

struct ImportResult {
  size_t imported = 0;              // rows written (0 unless everything was valid)
  std::vector<std::string> errors;  // validation errors, "FILE:LINE: reason"
  Status status;                    // a store error; ok when validation failed
  bool ok() const { return errors.empty() && status.ok(); }
};

// Validate, then upsert (see SqliteStore::UpsertCustomers / UpsertSubscriptions).
ImportResult ImportCustomers(SqliteStore& store, std::string_view text, const std::string& file);
ImportResult ImportSubscriptions(SqliteStore& store, std::string_view text, const std::string& file,
                                 const std::map<std::string, BillingPeriod>& services);

}  // namespace mailreqd
