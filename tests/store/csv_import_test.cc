// The CSV reader (RFC 4180) and the two import validators, then import into SQLite.
#include "daemon/csv_import.h"

#include <catch2/catch.hpp>

#include "daemon/csv_reader.h"
#include "tests/store/store_fixtures.h"

namespace mailreqd {
namespace {

using testing::OpenStore;
using testing::TempDir;

const std::map<std::string, BillingPeriod> kServices = {{"news", BillingPeriod::kMonthly},
                                                        {"annual", BillingPeriod::kYearly}};

const std::string kCustomersHead =
    "username,email,name,postal_address,telephone,fax,marketing_opt_in\r\n";

std::vector<std::string> Fields(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

}  // namespace

TEST_CASE("ReadCsv splits quoted fields with commas, quotes and line breaks", "[csv]") {
  auto records = ReadCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nlast,,\n");
  REQUIRE(records.size() == 3);
  CHECK(records[0].fields == Fields({"a", "b", "c"}));
  CHECK(records[1].line == 2);
  CHECK(records[1].fields == Fields({"x, y", "say \"hi\"", "two\r\nlines"}));
  CHECK(records[2].line == 4);  // the record before spans lines 2 and 3
  CHECK(records[2].fields == Fields({"last", "", ""}));
}

TEST_CASE("ReadCsv accepts LF or CRLF, a BOM and no final line break", "[csv]") {
  auto records = ReadCsv("\xEF\xBB\xBFh1,h2\n\nv1,v2");
  REQUIRE(records.size() == 2);
  CHECK(records[0].fields == Fields({"h1", "h2"}));
  CHECK(records[1].line == 3);
  CHECK(records[1].fields == Fields({"v1", "v2"}));
  CHECK(ReadCsv("").empty());
  CHECK(ReadCsv("\"\"\n").at(0).fields == Fields({""}));
}

TEST_CASE("ReadCsv reports malformed records and resumes on the next line", "[csv]") {
  auto records = ReadCsv("ok,1\nbad\"quote,2\n\"closed\"junk,3\nfine,4\n\"open,5\n");
  REQUIRE(records.size() == 5);
  CHECK(records[1].error == "quote inside an unquoted field");
  CHECK(records[2].error == "text after a closing quote");
  CHECK(records[3].line == 4);
  CHECK(records[3].fields == Fields({"fine", "4"}));
  CHECK(records[4].line == 5);
  CHECK(records[4].error == "quoted field never closed");
}

TEST_CASE("ValidateCustomersCsv reads good rows", "[csv][import]") {
  auto result = ValidateCustomersCsv(
      kCustomersHead +
          "alice,alice@example.com,\"Chan, Alice\",\"Flat 1\nQueen's Road\",+852 1,,yes\r\n"
          "bob.b_2-x,Bob@Mail.Example.org,Bob,,,,FALSE\r\n",
      "c.csv");
  REQUIRE(result.errors.empty());
  REQUIRE(result.rows.size() == 2);
  CHECK(result.rows[0].name == "Chan, Alice");
  CHECK(result.rows[0].postal_address == "Flat 1\nQueen's Road");
  CHECK(result.rows[0].marketing_opt_in);
  CHECK_FALSE(result.rows[1].marketing_opt_in);
}

TEST_CASE("ValidateCustomersCsv reports every bad row with file and line", "[csv][import]") {
  const std::string text = kCustomersHead +
                           "good,g@example.com,,,,,1\n"             // 2
                           "short,s@example.com,,,,\n"              // 3
                           ",e@example.com,,,,,1\n"                 // 4
                           "bad name,b@example.com,,,,,1\n"         // 5
                           "mail,not-an-address,,,,,1\n"            // 6
                           "optin,o@example.com,,,,,maybe\n"        // 7
                           "good,other@example.com,,,,,0\n"         // 8
                           "\"multi\nline\",m@example.com,,,,,x\n"  // 9-10
                           "quote,\"q\"x,,,,,1\n";                  // 11
  auto result = ValidateCustomersCsv(text, "c.csv");
  CHECK(result.rows.empty());
  CHECK(result.errors == std::vector<std::string>{
                             "c.csv:3: expected 7 columns, found 6",
                             "c.csv:4: empty username",
                             "c.csv:5: username must be 1-64 of A-Z a-z 0-9 . _ -",
                             "c.csv:6: malformed email",
                             "c.csv:7: marketing_opt_in must be one of true/false/yes/no/1/0",
                             "c.csv:8: duplicate username (first on line 2)",
                             "c.csv:9: username must be 1-64 of A-Z a-z 0-9 . _ -",
                             "c.csv:9: marketing_opt_in must be one of true/false/yes/no/1/0",
                             "c.csv:11: text after a closing quote",
                         });
}

TEST_CASE("ValidateCustomersCsv insists on the exact header", "[csv][import]") {
  auto wrong = ValidateCustomersCsv("username,email\nalice,a@example.com\n", "c.csv");
  REQUIRE(wrong.errors.size() == 1);
  CHECK(wrong.errors[0].rfind("c.csv:1: header must be exactly username,email,", 0) == 0);
  auto empty = ValidateCustomersCsv("", "empty.csv");
  REQUIRE(empty.errors.size() == 1);
  CHECK(empty.errors[0].rfind("empty.csv:1: missing header", 0) == 0);
}

TEST_CASE("Username and email checks accept and reject what they should", "[csv]") {
  CHECK(IsValidUsername("a"));
  CHECK(IsValidUsername(std::string(64, 'x')));
  CHECK_FALSE(IsValidUsername(std::string(65, 'x')));
  CHECK_FALSE(IsValidUsername("al/ice"));
  CHECK_FALSE(IsValidUsername("\xC3\xA9t\xC3\xA9"));
  CHECK(IsPlausibleEmail("a.b+tag@mail.example.com"));
  CHECK_FALSE(IsPlausibleEmail("a@b"));
  CHECK_FALSE(IsPlausibleEmail("@example.com"));
  CHECK_FALSE(IsPlausibleEmail("a@@example.com"));
  CHECK_FALSE(IsPlausibleEmail("a b@example.com"));
  CHECK_FALSE(IsPlausibleEmail("a@example..com"));
  CHECK_FALSE(IsPlausibleEmail("<a@example.com>"));
  CHECK(ParseYesNo("Yes") == true);
  CHECK(ParseYesNo("0") == false);
  CHECK_FALSE(ParseYesNo(""));
}

TEST_CASE("ValidateSubscriptionsCsv reports every bad row with file and line", "[csv][import]") {
  const std::unordered_set<std::string> customers = {"alice", "bob"};
  const std::string text =
      "username,service,anchor\n"
      "alice,news,2026-01-31\n"    // 2
      "alice,annual,2024-02-29\n"  // 3
      "carol,news,2026-01-01\n"    // 4
      "bob,weekly,2026-01-01\n"    // 5
      "bob,news,2026-02-30\n"      // 6
      "alice,news,2026-03-01\n"    // 7
      "bob,news\n"                 // 8
      ",news,2026-01-01\n";        // 9
  auto result = ValidateSubscriptionsCsv(text, "s.csv", kServices, customers);
  CHECK(result.rows.empty());
  CHECK(result.errors == std::vector<std::string>{
                             "s.csv:4: no customer with this username",
                             "s.csv:5: unknown service \"weekly\"",
                             "s.csv:6: anchor must be a date YYYY-MM-DD",
                             "s.csv:7: duplicate username and service (first on line 2)",
                             "s.csv:8: expected 3 columns, found 2",
                             "s.csv:9: empty username",
                         });
  auto good = ValidateSubscriptionsCsv("username,service,anchor\r\nalice,annual,2024-02-29\r\n",
                                       "s.csv", kServices, customers);
  REQUIRE(good.errors.empty());
  REQUIRE(good.rows.size() == 1);
  CHECK(good.rows[0].period == BillingPeriod::kYearly);
  CHECK(good.rows[0].anchor == Date{2024, 2, 29});
}

TEST_CASE("ImportCustomers writes all rows or none, and updates on re-import", "[csv][sqlite]") {
  TempDir dir;
  auto store = OpenStore(dir.File("import.db"));
  auto first = ImportCustomers(*store, kCustomersHead + "alice,a@example.com,Alice,,,,yes\n", "c");
  REQUIRE(first.ok());
  CHECK(first.imported == 1);

  auto bad = ImportCustomers(
      *store, kCustomersHead + "bob,b@example.com,Bob,,,,no\nalice,broken,,,,,yes\n", "c");
  CHECK_FALSE(bad.ok());
  CHECK(bad.imported == 0);
  CHECK_FALSE(store->FindCustomer("bob")->has_value());

  auto update = ImportCustomers(
      *store, kCustomersHead + "alice,new@example.com,Alice,,,,no\nbob,b@example.com,,,,,no\n",
      "c");
  REQUIRE(update.ok());
  CHECK(update.imported == 2);
  auto alice = **store->FindCustomer("alice");
  CHECK(alice.email == "new@example.com");
  CHECK_FALSE(alice.marketing_opt_in);
}

TEST_CASE("ImportSubscriptions keeps a cancellation unless the anchor changes", "[csv][sqlite]") {
  TempDir dir;
  auto store = OpenStore(dir.File("subs.db"));
  REQUIRE(ImportCustomers(*store, kCustomersHead + "alice,a@example.com,,,,,1\n", "c").ok());
  const std::string head = "username,service,anchor\n";
  REQUIRE(ImportSubscriptions(*store, head + "alice,news,2026-01-31\n", "s", kServices).ok());
  Subscription news = store->Subscriptions("alice")->front();
  news.status = "cancelling";
  news.ends_on = Date{2026, 3, 30};
  Change c = testing::SampleChange(1);
  c.subscription_update = news;
  REQUIRE(store->Commit(c).ok());

  auto unknown = ImportSubscriptions(*store, head + "zed,news,2026-01-31\n", "s", kServices);
  CHECK(unknown.errors == std::vector<std::string>{"s:2: no customer with this username"});

  auto same = ImportSubscriptions(*store, head + "alice,news,2026-01-31\nalice,annual,2025-06-01\n",
                                  "s", kServices);
  REQUIRE(same.ok());
  CHECK(same.imported == 2);
  auto subs = *store->Subscriptions("alice");
  REQUIRE(subs.size() == 2);
  CHECK(subs[1].service == "news");
  CHECK(subs[1].status == "cancelling");
  CHECK(subs[1].ends_on == Date{2026, 3, 30});

  REQUIRE(ImportSubscriptions(*store, head + "alice,news,2026-02-15\n", "s", kServices).ok());
  Subscription moved = store->Subscriptions("alice")->at(1);
  CHECK(moved.anchor == Date{2026, 2, 15});
  CHECK(moved.status == "active");
  CHECK_FALSE(moved.ends_on.has_value());
}

}  // namespace mailreqd
