// The billing-period rule, with every date written out.
#include "daemon/period.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

namespace mailreqd {
namespace {

Date D(const char* iso) {
  auto d = ParseIsoDate(iso);
  REQUIRE(d.has_value());
  return *d;
}

std::string Ends(const char* anchor, BillingPeriod p, const char* on) {
  return IsoDate(LastDayOfPeriod(D(anchor), p, D(on)));
}

std::string LocalIso(int64_t unix_seconds, const char* zone) {
  auto d = LocalDateOf(unix_seconds, zone);
  REQUIRE(d.has_value());
  return IsoDate(*d);
}

constexpr auto kMonthly = BillingPeriod::kMonthly;
constexpr auto kYearly = BillingPeriod::kYearly;

}  // namespace

TEST_CASE("ParseIsoDate accepts only real YYYY-MM-DD dates", "[period]") {
  CHECK(ParseIsoDate("2026-02-27") == Date{2026, 2, 27});
  CHECK(ParseIsoDate("2024-02-29") == Date{2024, 2, 29});
  CHECK(ParseIsoDate("2000-02-29") == Date{2000, 2, 29});
  CHECK_FALSE(ParseIsoDate("2100-02-29"));
  CHECK_FALSE(ParseIsoDate("2026-02-29"));
  CHECK_FALSE(ParseIsoDate("2026-13-01"));
  CHECK_FALSE(ParseIsoDate("2026-00-10"));
  CHECK_FALSE(ParseIsoDate("2026-04-31"));
  CHECK_FALSE(ParseIsoDate("2026-1-01"));
  CHECK_FALSE(ParseIsoDate("2026/01/01"));
  CHECK_FALSE(ParseIsoDate("2026-01-01 "));
  CHECK_FALSE(ParseIsoDate("+026-01-01"));
  CHECK_FALSE(ParseIsoDate(""));
}

TEST_CASE("Date formats as ISO and as a long English date", "[period]") {
  CHECK(IsoDate(Date{2026, 2, 27}) == "2026-02-27");
  CHECK(IsoDate(Date{2026, 12, 31}) == "2026-12-31");
  CHECK(IsoDate(Date{33, 1, 5}) == "0033-01-05");
  CHECK(IsoDate(Date{12345, 1, 1}) == "12345-01-01");  // beyond four digits: all of them
  CHECK(LongDate(Date{2026, 2, 27}) == "27 February 2026");
  CHECK(LongDate(Date{2026, 12, 1}) == "1 December 2026");
  CHECK(PeriodName(kYearly) == std::string("yearly"));
  CHECK(ParsePeriod("monthly") == kMonthly);
  CHECK_FALSE(ParsePeriod("weekly"));
}

TEST_CASE("Civil day conversion round-trips across leap rules", "[period]") {
  CHECK(DaysFromCivil(Date{1970, 1, 1}) == 0);
  CHECK(DaysFromCivil(Date{2000, 3, 1}) == 11017);
  CHECK(CivilFromDays(-1) == Date{1969, 12, 31});
  CHECK(AddDays(Date{2024, 2, 28}, 1) == Date{2024, 2, 29});
  CHECK(AddDays(Date{2100, 2, 28}, 1) == Date{2100, 3, 1});
  CHECK(AddDays(Date{2000, 2, 28}, 1) == Date{2000, 2, 29});
  CHECK(AddDays(Date{2026, 12, 31}, 1) == Date{2027, 1, 1});
  for (int64_t day = -800000; day < 800000; day += 97) {
    REQUIRE(DaysFromCivil(CivilFromDays(day)) == day);
  }
}

TEST_CASE("Renewal keeps the anchor's day and clamps to month end without drift", "[period]") {
  const Date jan31{2026, 1, 31};
  CHECK(Renewal(jan31, kMonthly, 0) == Date{2026, 1, 31});
  CHECK(Renewal(jan31, kMonthly, 1) == Date{2026, 2, 28});
  CHECK(Renewal(jan31, kMonthly, 2) == Date{2026, 3, 31});
  CHECK(Renewal(jan31, kMonthly, 3) == Date{2026, 4, 30});
  CHECK(Renewal(jan31, kMonthly, 11) == Date{2026, 12, 31});
  CHECK(Renewal(jan31, kMonthly, 12) == Date{2027, 1, 31});
  CHECK(Renewal(Date{2024, 1, 31}, kMonthly, 1) == Date{2024, 2, 29});
  CHECK(Renewal(Date{2100, 1, 31}, kMonthly, 1) == Date{2100, 2, 28});
  CHECK(Renewal(Date{2000, 1, 30}, kMonthly, 1) == Date{2000, 2, 29});
}

TEST_CASE("Renewal of a yearly Feb 29 anchor falls on Feb 28 in common years", "[period]") {
  const Date feb29{2024, 2, 29};
  CHECK(Renewal(feb29, kYearly, 1) == Date{2025, 2, 28});
  CHECK(Renewal(feb29, kYearly, 3) == Date{2027, 2, 28});
  CHECK(Renewal(feb29, kYearly, 4) == Date{2028, 2, 29});
  CHECK(Renewal(feb29, kYearly, 76) == Date{2100, 2, 28});
  CHECK(Renewal(Date{1996, 2, 29}, kYearly, 4) == Date{2000, 2, 29});
}

TEST_CASE("LastDayOfPeriod ends the month-end period the day before renewal", "[period]") {
  CHECK(Ends("2026-01-31", kMonthly, "2026-01-31") == "2026-02-27");
  CHECK(Ends("2026-01-31", kMonthly, "2026-02-27") == "2026-02-27");
  CHECK(Ends("2026-01-31", kMonthly, "2026-02-28") == "2026-03-30");
  CHECK(Ends("2026-01-31", kMonthly, "2026-03-30") == "2026-03-30");
  CHECK(Ends("2026-01-31", kMonthly, "2026-03-31") == "2026-04-29");
  CHECK(Ends("2026-01-31", kMonthly, "2026-12-31") == "2027-01-30");
  CHECK(Ends("2024-01-31", kMonthly, "2024-02-28") == "2024-02-28");
  CHECK(Ends("2024-01-31", kMonthly, "2024-02-29") == "2024-03-30");
  CHECK(Ends("2026-01-15", kMonthly, "2026-01-14") == "2026-01-14");
}

TEST_CASE("LastDayOfPeriod puts a request on a renewal date in the new period", "[period]") {
  CHECK(Ends("2025-06-10", kMonthly, "2026-03-09") == "2026-03-09");
  CHECK(Ends("2025-06-10", kMonthly, "2026-03-10") == "2026-04-09");
  CHECK(Ends("2025-06-10", kYearly, "2026-06-09") == "2026-06-09");
  CHECK(Ends("2025-06-10", kYearly, "2026-06-10") == "2027-06-09");
  CHECK(Ends("2025-06-10", kYearly, "2025-06-10") == "2026-06-09");
}

TEST_CASE("LastDayOfPeriod handles leap years for yearly anchors", "[period]") {
  CHECK(Ends("2024-02-29", kYearly, "2025-02-27") == "2025-02-27");
  CHECK(Ends("2024-02-29", kYearly, "2025-02-28") == "2026-02-27");
  CHECK(Ends("2024-02-29", kYearly, "2028-02-28") == "2028-02-28");
  CHECK(Ends("2024-02-29", kYearly, "2028-02-29") == "2029-02-27");
  CHECK(Ends("2096-02-29", kYearly, "2099-03-01") == "2100-02-27");
  CHECK(Ends("2096-02-29", kYearly, "2100-02-28") == "2101-02-27");
  CHECK(Ends("1996-02-29", kYearly, "2000-02-29") == "2001-02-27");
  CHECK(Ends("2026-03-01", kYearly, "2027-12-31") == "2028-02-29");
}

TEST_CASE("LastDayOfPeriod for an anchor in the future ends before it starts", "[period]") {
  CHECK(Ends("2026-05-01", kMonthly, "2026-04-20") == "2026-04-30");
  CHECK(Ends("2026-05-01", kYearly, "2025-01-01") == "2026-04-30");
}

TEST_CASE("LastDayOfPeriod is direct for anchors centuries away", "[period]") {
  CHECK(Ends("1900-01-31", kMonthly, "2800-02-28") == "2800-02-28");  // 2800 is leap
  CHECK(Ends("1900-01-31", kMonthly, "2800-02-29") == "2800-03-30");
  CHECK(Ends("1900-01-31", kMonthly, "2900-02-27") == "2900-02-27");  // 2900 is not
  CHECK(Ends("1900-01-31", kMonthly, "2900-02-28") == "2900-03-30");
  CHECK(Ends("1904-02-29", kYearly, "2904-03-01") == "2905-02-27");
}

TEST_CASE("LastDayOfPeriod always returns the day before a renewal after on", "[period]") {
  // A brute-force oracle over four years of request dates for awkward anchors.
  const Date anchor = GENERATE(Date{2023, 1, 29}, Date{2023, 1, 31}, Date{2024, 2, 29},
                               Date{2023, 8, 30}, Date{2023, 12, 31});
  const BillingPeriod p = GENERATE(kMonthly, kYearly);
  for (int64_t n = 0; n < 4 * 366; ++n) {
    const Date on = AddDays(anchor, n);
    int64_t k = 0;
    while (Renewal(anchor, p, k + 1) <= on) ++k;
    REQUIRE(LastDayOfPeriod(anchor, p, on) == AddDays(Renewal(anchor, p, k + 1), -1));
  }
}

TEST_CASE("StatutoryDueDate is 40 days after arrival", "[period]") {
  CHECK(StatutoryDueDate(Date{2026, 2, 27}) == Date{2026, 4, 8});
  CHECK(StatutoryDueDate(Date{2024, 1, 31}) == Date{2024, 3, 11});
}

TEST_CASE("LocalDateOf crosses midnight at the zone's offset", "[period][zone]") {
  // 2026-02-27 23:30 UTC is already 28 February, 07:30, in Hong Kong.
  CHECK(LocalIso(1772235000, "Asia/Hong_Kong") == "2026-02-28");
  CHECK(LocalIso(1772235000, "UTC") == "2026-02-27");
  CHECK(LocalIso(1772207999, "Asia/Hong_Kong") == "2026-02-27");  // 15:59:59 UTC
  CHECK(LocalIso(1772208000, "Asia/Hong_Kong") == "2026-02-28");  // 16:00:00 UTC
}

TEST_CASE("LocalDateOf follows daylight saving time", "[period][zone]") {
  // New York: EST (-5) until 2026-03-08, EDT (-4) after.
  CHECK(LocalIso(1772944200, "America/New_York") == "2026-03-07");  // 03-08 04:30 UTC
  CHECK(LocalIso(1773027000, "America/New_York") == "2026-03-08");  // 03-09 03:30 UTC
  CHECK(LocalIso(1773030600, "America/New_York") == "2026-03-09");  // 03-09 04:30 UTC
  // Lord Howe: +11 in (southern) summer, +10:30 in winter.
  CHECK(LocalIso(1768481999, "Australia/Lord_Howe") == "2026-01-15");
  CHECK(LocalIso(1768482000, "Australia/Lord_Howe") == "2026-01-16");
  CHECK(LocalIso(1784120400, "Australia/Lord_Howe") == "2026-07-15");
  CHECK(LocalIso(1784122200, "Australia/Lord_Howe") == "2026-07-16");
}

TEST_CASE("LocalDateOf restores the caller's TZ", "[period][zone]") {
  ::setenv("TZ", "Europe/Paris", 1);
  CHECK(LocalIso(0, "Asia/Hong_Kong") == "1970-01-01");
  REQUIRE(std::getenv("TZ") != nullptr);
  CHECK(std::string(std::getenv("TZ")) == "Europe/Paris");
  ::unsetenv("TZ");
  CHECK(LocalIso(0, "UTC") == "1970-01-01");
  CHECK(std::getenv("TZ") == nullptr);
}

TEST_CASE("LocalDateOf in the process's own zone leaves TZ alone and agrees", "[period][zone]") {
  // The daemon makes its zone the process's before its threads start: from then on
  // LocalDateOf must not touch the environment. New York leaves DST on 2026-11-01.
  UseZoneForProcess("America/New_York");
  CHECK(LocalIso(1793503800, "America/New_York") == "2026-10-31");  // 11-01 03:30 UTC, EDT
  CHECK(LocalIso(1793507400, "America/New_York") == "2026-11-01");  // 11-01 04:30 UTC, EDT
  CHECK(LocalIso(1793593800, "America/New_York") == "2026-11-01");  // 11-02 04:30 UTC, EST
  CHECK(std::string(std::getenv("TZ")) == ":America/New_York");
  CHECK(LocalIso(1793593800, "Asia/Tokyo") == "2026-11-02");  // another zone still works
  CHECK(std::string(std::getenv("TZ")) == ":America/New_York");
  ::unsetenv("TZ");
}

TEST_CASE("IsKnownZone accepts zone files and rejects paths and junk", "[period][zone]") {
  CHECK(IsKnownZone("Asia/Hong_Kong"));
  CHECK(IsKnownZone("UTC"));
  CHECK(IsKnownZone("America/New_York"));
  CHECK_FALSE(IsKnownZone(""));
  CHECK_FALSE(IsKnownZone("Mars/Olympus_Mons"));
  CHECK_FALSE(IsKnownZone("/etc/passwd"));
  CHECK_FALSE(IsKnownZone("../../../etc/passwd"));
  CHECK_FALSE(IsKnownZone("Asia/../UTC"));
  CHECK_FALSE(IsKnownZone("Asia"));      // a directory
  CHECK_FALSE(IsKnownZone("zone.tab"));  // a regular file, but not a zone
  CHECK_FALSE(LocalDateOf(0, "Nowhere/Special"));
}

TEST_CASE("LocalMidnight is the first second of the day in the zone", "[period][zone]") {
  CHECK(LocalMidnight(D("2026-11-26"), "Asia/Hong_Kong") == 1795622400);  // 16:00Z the day before
  CHECK(LocalMidnight(D("2026-03-08"), "America/New_York") == 1772946000);  // DST starts at 02:00
  CHECK(LocalMidnight(D("2026-11-26"), "UTC") == 1795651200);
  // Sao Paulo's clocks went from 00:00 to 01:00 on 2018-11-04: that day began at 01:00.
  CHECK(LocalMidnight(D("2018-11-04"), "America/Sao_Paulo") == 1541300400);
  CHECK_FALSE(LocalMidnight(D("2026-11-26"), "Nowhere/Special"));
}

TEST_CASE("LocalDateTime writes the local minute with the zone's offset", "[period][zone]") {
  constexpr int64_t kFeb27Hk = 1772154000;  // 2026-02-27 09:00 in Hong Kong
  CHECK(LocalDateTime(kFeb27Hk, "Asia/Hong_Kong") == "2026-02-27 09:00+08:00");
  CHECK(LocalDateTime(kFeb27Hk, "UTC") == "2026-02-27 01:00Z");
  CHECK(LocalDateTime(kFeb27Hk, "America/St_Johns") == "2026-02-26 21:30-03:30");
  CHECK(LocalDateTime(kFeb27Hk, "Nowhere/Special") == "2026-02-27 01:00Z");
}

}  // namespace mailreqd
