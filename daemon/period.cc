// The billing-period rule. Dates are proleptic Gregorian; the civil-day conversions are
// Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html), exact
// for every date an int64 can hold, so no loops over years are needed anywhere.
#include "daemon/period.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>

namespace mailreqd {
namespace {

constexpr std::array<const char*, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

constexpr const char* kZoneDir = "/usr/share/zoneinfo/";

int PeriodMonths(BillingPeriod p) { return p == BillingPeriod::kMonthly ? 1 : 12; }

// Floor division: the month arithmetic below must also work for dates before year 0.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Months since year 0, so that adding periods is integer addition.
int64_t MonthIndex(Date d) { return int64_t{d.year} * 12 + (d.month - 1); }

bool ParseDigits(std::string_view s, int& out) {
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return !s.empty();
}

}  // namespace

const char* PeriodName(BillingPeriod p) {
  return p == BillingPeriod::kMonthly ? "monthly" : "yearly";
}

std::optional<BillingPeriod> ParsePeriod(std::string_view s) {
  if (s == "monthly") return BillingPeriod::kMonthly;
  if (s == "yearly") return BillingPeriod::kYearly;
  return std::nullopt;
}

bool IsLeapYear(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

std::optional<Date> ParseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  Date d;
  if (!ParseDigits(s.substr(0, 4), d.year) || !ParseDigits(s.substr(5, 2), d.month) ||
      !ParseDigits(s.substr(8, 2), d.day)) {
    return std::nullopt;
  }
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return std::nullopt;
  }
  return d;
}

std::string IsoDate(Date d) {
  // Digit by digit: snprintf took 1,700 instructions, and a drain formats a few dates per
  // request (0.5% of it). Years outside 0-9999 never come from a valid anchor.
  if (d.year < 0 || d.year > 9999 || d.month < 0 || d.month > 99 || d.day < 0 || d.day > 99) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buf;
  }
  std::string out = "0000-00-00";
  for (int i = 3, y = d.year; i >= 0; --i, y /= 10) out[i] = static_cast<char>('0' + y % 10);
  out[5] = static_cast<char>('0' + d.month / 10);
  out[6] = static_cast<char>('0' + d.month % 10);
  out[8] = static_cast<char>('0' + d.day / 10);
  out[9] = static_cast<char>('0' + d.day % 10);
  return out;
}

std::string LongDate(Date d) {
  return std::to_string(d.day) + " " + kMonthNames[d.month - 1] + " " + std::to_string(d.year);
}

int64_t DaysFromCivil(Date d) {
  const int64_t y = int64_t{d.year} - (d.month <= 2);
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;  // [0, 399]
  const int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;
}

Date CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2));
  return d;
}

Date AddDays(Date d, int64_t n) { return CivilFromDays(DaysFromCivil(d) + n); }

Date Renewal(Date anchor, BillingPeriod p, int64_t k) {
  // Always counted from the anchor, never from the previous renewal: Jan 31 -> Feb 28 ->
  // Mar 31, not Mar 28 (no drift).
  const int64_t index = MonthIndex(anchor) + k * PeriodMonths(p);
  Date d;
  d.year = static_cast<int>(FloorDiv(index, 12));
  d.month = static_cast<int>(index - int64_t{d.year} * 12) + 1;
  d.day = std::min(anchor.day, DaysInMonth(d.year, d.month));
  return d;
}

Date LastDayOfPeriod(Date anchor, BillingPeriod p, Date on) {
  if (on < anchor) return AddDays(anchor, -1);
  // Renewal k falls in month anchor + k*period, so the month difference gives k directly;
  // only when `on` lies in a renewal month before that month's renewal day is it one less.
  int64_t k = (MonthIndex(on) - MonthIndex(anchor)) / PeriodMonths(p);
  if (Renewal(anchor, p, k) > on) --k;
  return AddDays(Renewal(anchor, p, k + 1), -1);
}

Date StatutoryDueDate(Date arrived_local) { return AddDays(arrived_local, kStatutoryReplyDays); }

bool IsKnownZone(const std::string& zone) {
  if (zone.empty() || zone.size() > 255 || zone.front() == '/') return false;
  if (zone.find("..") != std::string::npos) return false;
  for (char c : zone) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return false;
  }
  const std::string path = kZoneDir + zone;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  // zone.tab, tzdata.zi and friends are regular files too, but not zones.
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 4 && std::string_view(magic, 4) == "TZif";
}

namespace {

// The zone's UTC offset at `t`, through libc's tz database. Slow (tzset reloads the
// zone file when TZ changes), so LocalDateOf caches what it returns.
std::optional<long> UtcOffsetSlow(int64_t unix_seconds, const std::string& zone) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  // The daemon's zone is the process's (UseZoneForProcess): no juggling of TZ, which
  // would race with the getenv() of other threads (libcurl, localtime_r in the log).
  const char* current = std::getenv("TZ");
  if (current && current == ":" + zone) {
    if (!::localtime_r(&t, &tm)) return std::nullopt;
    return tm.tm_gmtoff;
  }
  // Another zone (tools, tests): TZ is process-wide state: serialize, and put back
  // whatever was there before.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const char* previous = std::getenv("TZ");
  const std::optional<std::string> saved =
      previous ? std::optional<std::string>(previous) : std::nullopt;
  ::setenv("TZ", (":" + zone).c_str(), 1);  // ":" = a file name, not a POSIX TZ rule
  ::tzset();
  const bool converted = ::localtime_r(&t, &tm) != nullptr;
  if (saved) {
    ::setenv("TZ", saved->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  if (!converted) return std::nullopt;
  return tm.tm_gmtoff;
}

}  // namespace

void UseZoneForProcess(const std::string& zone) {
  ::setenv("TZ", (":" + zone).c_str(), 1);
  ::tzset();
}

std::optional<long> UtcOffsetOf(int64_t unix_seconds, const std::string& zone) {
  // Offsets change only at transitions, which fall on quarter hours: one lookup per
  // zone and quarter hour serves every mail that arrived in it.
  constexpr int64_t kBucket = 900;
  static std::mutex mu;
  static std::map<std::pair<std::string, int64_t>, long> cache;
  const int64_t bucket = FloorDiv(unix_seconds, kBucket);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find({zone, bucket});
    if (it != cache.end()) return it->second;
  }
  // glibc silently falls back to UTC for a zone it cannot load, hence the check first.
  if (!IsKnownZone(zone)) return std::nullopt;
  std::optional<long> offset = UtcOffsetSlow(bucket * kBucket, zone);
  if (!offset) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu);
  // Bounded, whatever the mailbox holds: mail of one day needs 96 entries, a backlog
  // spread over years more than any cache should keep (each miss costs microseconds).
  if (cache.size() >= 4096) cache.clear();
  cache[{zone, bucket}] = *offset;
  return offset;
}

std::optional<Date> LocalDateOf(int64_t unix_seconds, const std::string& zone) {
  std::optional<long> offset = UtcOffsetOf(unix_seconds, zone);
  if (!offset) return std::nullopt;
  int64_t local = unix_seconds + *offset;
  const int64_t days = FloorDiv(local, 86400);
  return CivilFromDays(days);
}

std::string LocalDateTime(int64_t unix_seconds, const std::string& zone) {
  const long offset = UtcOffsetOf(unix_seconds, zone).value_or(0);
  const int64_t local = unix_seconds + offset;
  const int64_t days = FloorDiv(local, 86400);
  const int minute = static_cast<int>((local - days * 86400) / 60);
  const int off = static_cast<int>(std::labs(offset) / 60);  // at most 26 hours
  char text[32];
  if (offset == 0) {
    std::snprintf(text, sizeof text, " %02d:%02dZ", minute / 60, minute % 60);
  } else {
    std::snprintf(text, sizeof text, " %02d:%02d%c%02d:%02d", minute / 60, minute % 60,
                  offset < 0 ? '-' : '+', off / 60, off % 60);
  }
  return IsoDate(CivilFromDays(days)) + text;
}

std::optional<int64_t> LocalMidnight(Date day, const std::string& zone) {
  // Local time is never more than 14 hours ahead of UTC nor 12 behind, so 16 hours
  // before the day's UTC midnight it is still the day before, 16 hours after it is the
  // day (or the next): the first second of the day lies between, found by halving.
  const int64_t target = DaysFromCivil(day);
  int64_t before = target * 86400 - 16 * 3600;
  int64_t after = target * 86400 + 16 * 3600;
  if (!LocalDateOf(before, zone)) return std::nullopt;
  while (after - before > 1) {
    const int64_t mid = before + (after - before) / 2;
    (DaysFromCivil(*LocalDateOf(mid, zone)) < target ? before : after) = mid;
  }
  return after;
}

}  // namespace mailreqd
