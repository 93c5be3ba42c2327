#include "parsers/address.h"

#include <catch2/catch.hpp>

namespace mailreqd {
namespace {

TEST_CASE("ParseAddress reads the common mailbox forms", "[address]") {
  Address a = ParseAddress("John Doe <john@example.com>");
  CHECK(a.name == "John Doe");
  CHECK(a.addr == "john@example.com");
  a = ParseAddress("john@example.com (John Doe)");
  CHECK(a.name == "John Doe");
  CHECK(a.addr == "john@example.com");
  a = ParseAddress("<john@example.com>");
  CHECK(a.name == "");
  CHECK(a.addr == "john@example.com");
  a = ParseAddress("  john@example.com  ");
  CHECK(a.addr == "john@example.com");
}

TEST_CASE("ParseAddress unquotes names with escapes and decodes encoded words", "[address]") {
  Address a = ParseAddress(R"("Doe, John \"JD\"" <jd@example.com>)");
  CHECK(a.name == "Doe, John \"JD\"");
  CHECK(a.addr == "jd@example.com");
  CHECK(ParseAddress("=?utf-8?B?546L5bCP5piO?= <wang@example.cn>").name == "王小明");
  CHECK(ParseAddress("\"=?ISO-8859-1?Q?J=FCrgen?=\" <j@example.de>").name == "Jürgen");
  CHECK(ParseAddress("=?big5?Q?=B4=FA=B8=D5?= <t@example.tw>").name == "測試");
}

TEST_CASE("ParseAddressList reads lists and groups", "[address]") {
  auto list = ParseAddressList("a@x.com, \"B\" <b@x.com>, team: c@x.com, d@x.com;, e@x.com");
  REQUIRE(list.size() == 5);
  CHECK(list[0].addr == "a@x.com");
  CHECK(list[1].name == "B");
  CHECK(list[2].addr == "c@x.com");
  CHECK(list[3].addr == "d@x.com");
  CHECK(list[4].addr == "e@x.com");
  CHECK(ParseAddressList("undisclosed-recipients:;").empty());
  CHECK(ParseAddressList("").empty());
}

TEST_CASE("ParseAddress handles routes, null paths and local-only senders", "[address]") {
  CHECK(ParseAddress("<@relay.example:user@example.com>").addr == "user@example.com");
  Address null_path = ParseAddress("MAILER-DAEMON <>");
  CHECK(null_path.name == "MAILER-DAEMON");
  CHECK(null_path.addr == "");
  CHECK(ParseAddress("MAILER-DAEMON").addr == "MAILER-DAEMON");
  CHECK(ParseAddress("Doe, John <jd@example.com>").name == "Doe, John");
  CHECK(ParseAddress("Doe, John <jd@example.com>").addr == "jd@example.com");
}

TEST_CASE("ParseAddress turns garbage into an empty address", "[address]") {
  CHECK(ParseAddress("not an address").addr == "");
  CHECK(ParseAddress("not an address").name == "not an address");
  CHECK(ParseAddress("a@b@c").addr == "");
  CHECK(ParseAddress("<unterminated@x").addr == "unterminated@x");
  CHECK(ParseAddress("\"unterminated <x@y>").addr == "");
  CHECK(ParseAddress("((((").addr == "");
  Address broken = ParseAddress("Big Bug bb@bug.com");  // no angle brackets
  CHECK(broken.addr == "bb@bug.com");
  CHECK(broken.name == "Big Bug");
  CHECK(ParseAddress("a@x.com b@x.com").addr == "a@x.com");
  CHECK(ParseAddress(std::string(100000, '<')).addr == "");
}

}  // namespace
}  // namespace mailreqd
