#include "daemon/csv_import.h"

#include <algorithm>
#include <utility>

#include "daemon/csv_reader.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

constexpr size_t kMaxUsername = 64;
constexpr size_t kMaxEmail = 254;  // RFC 5321 §4.5.3.1.3 path limit minus the brackets

// Collects "FILE:LINE: reason" messages for one file.
class ErrorList {
 public:
  ErrorList(const std::string& file, std::vector<std::string>& out) : file_(file), out_(out) {}
  void Add(int line, std::string_view reason) {
    out_.push_back(file_ + ":" + std::to_string(line) + ": " + std::string(reason));
  }

 private:
  const std::string& file_;
  std::vector<std::string>& out_;
};

std::string Join(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out;
}

// Splits the records and checks the header; returns the data records, or none after
// an error that makes the rest unreadable (missing or wrong header).
std::vector<CsvRecord> DataRecords(std::string_view text, std::string_view header,
                                   ErrorList& errors) {
  std::vector<CsvRecord> records = ReadCsv(text);
  if (records.empty() || records.front().line != 1) {
    errors.Add(1, "missing header: expected " + std::string(header));
    return {};
  }
  if (!records.front().error.empty() || Join(records.front().fields) != header) {
    errors.Add(1, "header must be exactly " + std::string(header));
    return {};
  }
  records.erase(records.begin());
  return records;
}

// Reports the reader's error or a wrong field count; true when the shape is right.
bool HasShape(const CsvRecord& r, size_t columns, ErrorList& errors) {
  if (!r.error.empty()) {
    errors.Add(r.line, r.error);
    return false;
  }
  if (r.fields.size() != columns) {
    errors.Add(r.line, "expected " + std::to_string(columns) + " columns, found " +
                           std::to_string(r.fields.size()));
    return false;
  }
  return true;
}

bool CheckUsername(const std::string& username, int line, ErrorList& errors) {
  if (username.empty()) {
    errors.Add(line, "empty username");
    return false;
  }
  if (!IsValidUsername(username)) {
    errors.Add(line, "username must be 1-64 of A-Z a-z 0-9 . _ -");
    return false;
  }
  return true;
}

// Adds `key` first seen on `line`; reports a repeat with the line of the first one.
void CheckUnique(std::map<std::string, int>& seen, const std::string& key, int line,
                 std::string_view what, ErrorList& errors) {
  auto [it, inserted] = seen.emplace(key, line);
  if (!inserted) {
    errors.Add(line, "duplicate " + std::string(what) + " (first on line " +
                         std::to_string(it->second) + ")");
  }
}

// Validates one customer row; nullopt (with errors added) when it is bad.
std::optional<Customer> CustomerOf(const CsvRecord& r, ErrorList& errors) {
  const auto& f = r.fields;
  bool ok = CheckUsername(f[0], r.line, errors);
  if (!IsPlausibleEmail(f[1])) {
    errors.Add(r.line, "malformed email");
    ok = false;
  }
  const std::optional<bool> opt_in = ParseYesNo(f[6]);
  if (!opt_in) {
    errors.Add(r.line, "marketing_opt_in must be one of true/false/yes/no/1/0");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return Customer{f[0], f[1], f[2], f[3], f[4], f[5], *opt_in};
}

std::optional<Subscription> SubscriptionOf(const CsvRecord& r,
                                           const std::map<std::string, BillingPeriod>& services,
                                           const std::unordered_set<std::string>& customers,
                                           ErrorList& errors) {
  const auto& f = r.fields;
  bool ok = CheckUsername(f[0], r.line, errors);
  if (ok && customers.count(f[0]) == 0) {
    errors.Add(r.line, "no customer with this username");
    ok = false;
  }
  auto service = services.find(f[1]);
  if (service == services.end()) {
    // The service name comes from our own configuration's vocabulary, not a person.
    errors.Add(r.line, "unknown service \"" + f[1] + "\"");
    ok = false;
  }
  const std::optional<Date> anchor = ParseIsoDate(f[2]);
  if (!anchor) {
    errors.Add(r.line, "anchor must be a date YYYY-MM-DD");
    ok = false;
  }
  if (!ok) return std::nullopt;
  Subscription s;
  s.username = f[0];
  s.service = f[1];
  s.period = service->second;
  s.anchor = *anchor;
  return s;
}

}  // namespace

bool IsValidUsername(std::string_view s) {
  if (s.empty() || s.size() > kMaxUsername) return false;
  // Explicit ranges: std::isalnum depends on the locale.
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool IsPlausibleEmail(std::string_view s) {
  if (s.size() > kMaxEmail) return false;
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = s.substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  if (domain.find("..") != std::string_view::npos) return false;
  return std::none_of(s.begin(), s.end(), [](unsigned char c) {
    return c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';' ||
           c == '(' || c == ')' || c == '[' || c == ']' || c == '\\';
  });
}

std::optional<bool> ParseYesNo(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "true" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "0") return false;
  return std::nullopt;
}

CustomerRows ValidateCustomersCsv(std::string_view text, const std::string& file) {
  CustomerRows out;
  ErrorList errors(file, out.errors);
  std::map<std::string, int> seen;
  for (const CsvRecord& r : DataRecords(text, kCustomersHeader, errors)) {
    if (!HasShape(r, 7, errors)) continue;
    std::optional<Customer> c = CustomerOf(r, errors);
    if (!r.fields[0].empty()) CheckUnique(seen, r.fields[0], r.line, "username", errors);
    if (c) out.rows.push_back(std::move(*c));
  }
  if (!out.errors.empty()) out.rows.clear();
  return out;
}

SubscriptionRows ValidateSubscriptionsCsv(std::string_view text, const std::string& file,
                                          const std::map<std::string, BillingPeriod>& services,
                                          const std::unordered_set<std::string>& customers) {
  SubscriptionRows out;
  ErrorList errors(file, out.errors);
  std::map<std::string, int> seen;
  for (const CsvRecord& r : DataRecords(text, kSubscriptionsHeader, errors)) {
    if (!HasShape(r, 3, errors)) continue;
    std::optional<Subscription> s = SubscriptionOf(r, services, customers, errors);
    // "\n" cannot occur in a valid username, so the pair key is unambiguous.
    const std::string pair = r.fields[0] + "\n" + r.fields[1];
    if (!r.fields[0].empty()) CheckUnique(seen, pair, r.line, "username and service", errors);
    if (s) out.rows.push_back(std::move(*s));
  }
  if (!out.errors.empty()) out.rows.clear();
  return out;
}

ImportResult ImportCustomers(SqliteStore& store, std::string_view text, const std::string& file) {
  ImportResult result;
  CustomerRows rows = ValidateCustomersCsv(text, file);
  result.errors = std::move(rows.errors);
  if (!result.errors.empty()) return result;
  result.status = store.UpsertCustomers(rows.rows);
  if (result.status.ok()) result.imported = rows.rows.size();
  return result;
}

ImportResult ImportSubscriptions(SqliteStore& store, std::string_view text, const std::string& file,
                                 const std::map<std::string, BillingPeriod>& services) {
  ImportResult result;
  Result<std::unordered_set<std::string>> customers = store.Usernames();
  if (!customers.ok()) {
    result.status = customers.status();
    return result;
  }
  SubscriptionRows rows = ValidateSubscriptionsCsv(text, file, services, *customers);
  result.errors = std::move(rows.errors);
  if (!result.errors.empty()) return result;
  result.status = store.UpsertSubscriptions(rows.rows);
  if (result.status.ok()) result.imported = rows.rows.size();
  return result;
}

}  // namespace mailreqd
