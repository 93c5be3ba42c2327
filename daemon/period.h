// The billing-period rule, pure. "The remainder of the current subscription period will
// remain active, with membership ending on the last day of the current period."
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailreqd {

enum class BillingPeriod { kMonthly, kYearly };
const char* PeriodName(BillingPeriod p);                       // "monthly" / "yearly"
std::optional<BillingPeriod> ParsePeriod(std::string_view s);  // inverse of PeriodName

// A calendar date with no zone (a local date in the configured zone).
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  auto operator<=>(const Date&) const = default;
};

std::optional<Date> ParseIsoDate(std::string_view s);  // strict YYYY-MM-DD, valid day
std::string IsoDate(Date d);                           // "2026-02-27"
std::string LongDate(Date d);                          // "27 February 2026"
bool IsLeapYear(int year);                             // Gregorian: 2000 yes, 2100 no
int DaysInMonth(int year, int month);
int64_t DaysFromCivil(Date d);  // days since 1970-01-01
Date CivilFromDays(int64_t days);
Date AddDays(Date d, int64_t n);

// Renewal k (k >= 0) of a subscription anchored at `anchor`: anchor + k periods, keeping
// the anchor's day of month and clamping to the month's end without drift.
Date Renewal(Date anchor, BillingPeriod p, int64_t k);

// The last day of the period containing `on`: the day before the first renewal after
// `on`. A request on a renewal date belongs to the period that starts that day. If `on`
// is before the anchor, the subscription has not started: returns the day before the
// anchor (it ends before it starts, so no period is ever charged). Constant time: k is
// computed from the month difference, whatever the distance between anchor and `on`.
//   anchor 2026-01-31 monthly, on 2026-02-27 -> 2026-02-27; on 2026-02-28 -> 2026-03-30.
Date LastDayOfPeriod(Date anchor, BillingPeriod p, Date on);

// When a request left for a human must be answered: Hong Kong PDPO s.19(1) and s.23(1)
// give 40 days for data access and data correction requests; the same deadline is used
// for every other request that needs a human, so there is one rule to remember.
inline constexpr int kStatutoryReplyDays = 40;
Date StatutoryDueDate(Date arrived_local);  // arrived_local + 40 days

// The local date of a UTC instant in an IANA zone ("Asia/Hong_Kong"), using libc's tz
// database. Returns nullopt for an unknown zone. For the process's own zone (see
// UseZoneForProcess) it only calls localtime_r; for another it sets TZ, under a mutex,
// and restores it, which is safe only while no other thread reads the environment.
std::optional<Date> LocalDateOf(int64_t unix_seconds, const std::string& zone);
// The zone's offset from UTC at that instant, in seconds (+28800 in Hong Kong), as
// LocalDateOf finds it; nullopt for an unknown zone.
std::optional<long> UtcOffsetOf(int64_t unix_seconds, const std::string& zone);
// The first second of `day` in the zone (its local midnight, or later when a clock
// change skips midnight); nullopt for an unknown zone.
std::optional<int64_t> LocalMidnight(Date day, const std::string& zone);
// "2026-11-26 09:05+08:00": the instant in the zone, to the minute, with its offset, so
// that it reads as local time and still names one instant ("Z" for UTC, and for a zone
// that cannot be read).
std::string LocalDateTime(int64_t unix_seconds, const std::string& zone);
// Makes `zone` the process's TZ, so that LocalDateOf(…, zone) never changes the
// environment. Call it while no other thread runs (setenv is not thread-safe).
void UseZoneForProcess(const std::string& zone);
// True when /usr/share/zoneinfo/<zone> is a regular TZif file. Rejects "", absolute
// paths, ".." and characters outside [A-Za-z0-9/_+-].
bool IsKnownZone(const std::string& zone);

}  // namespace mailreqd
