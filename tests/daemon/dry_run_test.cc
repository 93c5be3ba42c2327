// The --dry-run decorators on fakes: nothing is moved, and what would have been moved is
// told once, not again at every look at the mailbox.
#include "daemon/dry_run.h"

#include <catch2/catch.hpp>

#include "daemon/processor.h"
#include "tests/fakes/fake_ports.h"
#include "tests/fakes/fake_store.h"

namespace mailreqd {
namespace {

std::vector<uint32_t> UidsOf(const Result<std::vector<PendingMessage>>& pending) {
  REQUIRE(pending.ok());
  std::vector<uint32_t> out;
  for (const auto& p : *pending) out.push_back(p.uid);
  return out;
}

}  // namespace

TEST_CASE("DryRunMailbox moves nothing and leaves what it would move out of later listings",
          "[dry_run]") {
  FakeMailbox real;
  for (int i = 0; i < 5; ++i) real.Add("Subject: " + std::to_string(i) + "\r\n\r\n", 1000 + i);
  DryRunMailbox dry(real);
  REQUIRE(UidsOf(dry.PendingAfter(0, 10)) == std::vector<uint32_t>{1, 2, 3, 4, 5});

  REQUIRE(dry.Move({1, 3}, "Processed").ok());
  CHECK(real.inbox.size() == 5);
  CHECK(real.folders.empty());
  CHECK(UidsOf(dry.PendingAfter(0, 10)) == std::vector<uint32_t>{2, 4, 5});
  auto fetched = dry.Fetch({1, 2});
  REQUIRE(fetched.ok());
  CHECK(fetched->size() == 2);  // reading is not hidden, only listing
}

TEST_CASE("DryRunMailbox still gives full pages, so the last page is the short one", "[dry_run]") {
  FakeMailbox real;
  for (int i = 0; i < 6; ++i) real.Add("Subject: x\r\n\r\n", 1000 + i);
  DryRunMailbox dry(real);
  REQUIRE(UidsOf(dry.PendingAfter(0, 3)) == std::vector<uint32_t>{1, 2, 3});
  REQUIRE(dry.Move({1, 2, 3, 5}, "Processed").ok());

  // The real first page is all moved mail: the listing reads on to fill its page.
  CHECK(UidsOf(dry.PendingAfter(0, 2)) == std::vector<uint32_t>{4, 6});
  CHECK(UidsOf(dry.PendingAfter(4, 2)) == std::vector<uint32_t>{6});
  CHECK(UidsOf(dry.PendingAfter(6, 2)).empty());
}

TEST_CASE("A dry run that keeps running decides each mail once, and records nothing", "[dry_run]") {
  FakeMailbox real_mailbox;
  FakeStore real_store;
  real_store.AddCustomer({"alice88", "alice@example.com", "Alice", "", "", "", true});
  real_store.AddSubscription("alice88", "streaming", BillingPeriod::kMonthly, {2026, 1, 31});
  real_mailbox.Add(
      "From: alice@example.com\r\nSubject: Unsubscribe\r\nMessage-ID: <a@x>\r\n\r\n"
      "Username: alice88\r\nService: streaming\r\n",
      1772154000);
  real_mailbox.Add(
      "From: someone@example.net\r\nSubject: Hello\r\nMessage-ID: <b@x>\r\n\r\n"
      "What is this?\r\n",
      1772154000);
  Config config;
  config.timezone = "Asia/Hong_Kong";
  config.smtp.from = "Customer Service <support@shop.example>";
  config.smtp.from_addr = "support@shop.example";
  config.services = {{"streaming", BillingPeriod::kMonthly, {}}};
  TemplateSet templates = *TemplateSet::Load("");
  FakeClock clock;
  DryRunMailbox mailbox(real_mailbox);
  DryRunStore store(real_store);
  Processor processor(mailbox, store, clock, config, templates);

  auto first = processor.Drain(nullptr);
  REQUIRE(first.ok());
  CHECK(first->messages == 2);
  auto second = processor.Drain(nullptr);  // the daemon's next look at the mailbox
  REQUIRE(second.ok());
  CHECK(second->messages == 0);
  CHECK(real_mailbox.inbox.size() == 2);
  CHECK(real_store.requests.empty());
  CHECK(real_store.outbox.empty());
  CHECK(real_store.subscriptions.front().status == "active");
}

}  // namespace mailreqd
