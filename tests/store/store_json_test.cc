// The JSON of `mailreqd show` and `mailreqd requests --json`, compared as whole lines.
#include "daemon/store_json.h"

#include <catch2/catch.hpp>

#include "daemon/sha256.h"

namespace mailreqd {

TEST_CASE("CustomerJson lists the customer and each subscription's effective status", "[json]") {
  Customer c{"alice",
             "alice@example.com",
             "Chan \"Ally\" Tai Man",
             "Flat 1\nQueen's Road",
             "+852 2123 4567",
             "",
             true};
  Subscription active;
  active.service = "news";
  active.anchor = Date{2026, 1, 31};
  Subscription cancelling = active;
  cancelling.service = "annual";
  cancelling.period = BillingPeriod::kYearly;
  cancelling.status = "cancelling";
  cancelling.ends_on = Date{2026, 3, 30};
  CHECK(
      CustomerJson(c, {active, cancelling}, Date{2026, 3, 30}) ==
      R"({"username":"alice","email":"alice@example.com","name":"Chan \"Ally\" Tai Man",)"
      R"("postal_address":"Flat 1\nQueen's Road","telephone":"+852 2123 4567","fax":"",)"
      R"("marketing_opt_in":true,"subscriptions":[)"
      R"({"service":"news","period":"monthly","anchor":"2026-01-31","status":"active","ends_on":null},)"
      R"({"service":"annual","period":"yearly","anchor":"2026-01-31","status":"cancelling","ends_on":"2026-03-30"}]})");
  CHECK(
      SubscriptionJson(cancelling, Date{2026, 3, 31}) ==
      R"({"service":"annual","period":"yearly","anchor":"2026-01-31","status":"ended","ends_on":"2026-03-30"})");
  c.marketing_opt_in = false;
  CHECK(CustomerJson(c, {}, Date{2026, 1, 1})
            .find(R"("marketing_opt_in":false,"subscriptions":[]})") != std::string::npos);
}

TEST_CASE("RequestJson writes every column, due_on null when unset", "[json]") {
  RequestRecord r;
  r.id = 7;
  r.key = "mid:<a@b>";
  r.message_id = "<a@b>";
  r.arrived = 1772235000;
  r.sender = "alice@example.com";
  r.kind = "data_access";
  r.username = "alice";
  r.outcome = "review";
  r.detail = "identity unclear";
  r.folder = "review";
  CHECK(RequestJson(r) ==
        R"({"id":7,"key":"mid:<a@b>","message_id":"<a@b>","arrived":1772235000,)"
        R"("sender":"alice@example.com","kind":"data_access","username":"alice",)"
        R"("outcome":"review","detail":"identity unclear","due_on":null,"folder":"review"})");
  r.due_on = Date{2026, 4, 9};
  CHECK(RequestJson(r).find(R"("due_on":"2026-04-09")") != std::string::npos);
}

TEST_CASE("Sha256Hex matches the FIPS 180-2 test vectors", "[sha256]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex(std::string("a\0b", 3)).size() == 64);
}

}  // namespace mailreqd
