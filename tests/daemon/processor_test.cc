// The processor and the decisions behind it, on fakes: who may ask, the confirmation
// round trip, the privacy flows, the outbox, and poison messages.
#include <catch2/catch.hpp>

#include "daemon/outbox.h"
#include "daemon/processor.h"
#include "tests/fakes/captured_stderr.h"
#include "tests/fakes/fake_ports.h"
#include "tests/fakes/fake_store.h"

namespace mailreqd {
namespace {

constexpr int64_t kFeb27Hk = 1772154000;  // 2026-02-27 09:00 Hong Kong (01:00 UTC)

Config TestConfig() {
  Config c;
  c.timezone = "Asia/Hong_Kong";
  c.smtp.from = "Customer Service <support@shop.example>";
  c.smtp.from_addr = "support@shop.example";
  c.services = {{"streaming", BillingPeriod::kMonthly, {"music streaming"}},
                {"library", BillingPeriod::kYearly, {}}};
  c.company.name = "Shop";
  return c;
}

std::string Mail(const std::string& from, const std::string& subject, const std::string& body,
                 const std::string& id) {
  return "From: " + from + "\r\nTo: support@shop.example\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + id + ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body;
}

struct World {
  FakeMailbox mailbox;
  FakeStore store;
  FakeSender sender;
  FakeClock clock;
  Config config = TestConfig();
  TemplateSet templates = *TemplateSet::Load("");
  Processor processor{mailbox, store, clock, config, templates};
  Outbox outbox{store, sender, clock, config};

  World() {
    store.AddCustomer({"alice88", "alice@example.com", "Alice Chan", "1 Road", "+852 1234", "", true});
    store.AddCustomer({"bob", "bob@example.net", "Bob Wong", "2 Road", "", "", false});
    store.AddSubscription("alice88", "streaming", BillingPeriod::kMonthly, {2026, 1, 31});
  }
  void Run() {
    REQUIRE(processor.Drain(nullptr).ok());
    REQUIRE(outbox.SendDue(nullptr, 5, true).ok());
  }
  std::vector<SentMail> To(const std::string& rcpt) const {
    std::vector<SentMail> out;
    for (const auto& m : sender.sent) {
      if (m.rcpt == rcpt) out.push_back(m);
    }
    return out;
  }
  const Subscription& Alice() const { return store.subscriptions.front(); }
};

std::string TokenIn(const std::string& raw) {
  auto t = FindToken(raw);
  REQUIRE(t);
  return *t;
}

TEST_CASE("Processor cancels at once for the registered address", "[processor]") {
  World w;
  w.mailbox.Add(Mail("Alice <ALICE@example.com>", "Unsubscribe", "Username: alice88\nService: streaming\n", "a1@x"), kFeb27Hk);
  w.Run();
  CHECK(w.Alice().status == "cancelling");
  CHECK(w.Alice().ends_on == Date{2026, 2, 27});
  REQUIRE(w.To("alice@example.com").size() == 1);
  CHECK(w.To("alice@example.com")[0].raw.find("27 February 2026") != std::string::npos);
  CHECK(w.mailbox.folders["Processed"].size() == 1);
}

TEST_CASE("Processor looks up the sender's accounts only for a mail that names none", "[processor][identity]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88\nService: streaming", "a1@x"), kFeb27Hk);
  w.Run();
  CHECK(w.Alice().status == "cancelling");
  CHECK(w.store.email_lookups == 0);
  SECTION("a mail without a username is matched by its sender") {
    w.store.AddSubscription("bob", "streaming", BillingPeriod::kMonthly, {2026, 1, 31});
    w.mailbox.Add(Mail("bob@example.net", "Unsubscribe", "Service: streaming", "b1@x"), kFeb27Hk);
    w.Run();
    CHECK(w.store.email_lookups == 1);
    CHECK(w.store.subscriptions.back().status == "cancelling");
  }
}

TEST_CASE("Processor keeps the first end date when asked twice", "[processor]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a1@x"), kFeb27Hk);
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a2@x"), kFeb27Hk + 3600);
  w.Run();
  CHECK(w.Alice().ends_on == Date{2026, 2, 27});
  REQUIRE(w.store.committed.size() == 2);
  CHECK(w.store.committed[1].request.outcome == "already_cancelling");
  SECTION("and reports nothing active once the period is over") {
    w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a3@x"), kFeb27Hk + 5 * 86400);
    w.Run();
    CHECK(w.store.committed.back().request.outcome == "nothing_active");
  }
}

TEST_CASE("Processor decides an account's later mail on what its earlier one recorded", "[processor]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a1@x"), kFeb27Hk);
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a2@x"), kFeb27Hk + 60);
  w.mailbox.Add(Mail("bob@example.net", "Unsubscribe from marketing", "Username: bob", "b1@x"), kFeb27Hk + 120);
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a3@x"), kFeb27Hk + 180);
  w.Run();
  // Bob's mail does not wait for Alice's second; Alice's mail keeps its order.
  std::vector<std::string> order;
  for (const auto& c : w.store.committed) order.push_back(c.request.message_id);
  CHECK(order == std::vector<std::string>{"a1@x", "b1@x", "a2@x", "a3@x"});
  CHECK(w.store.committed[0].request.outcome == "cancelled");
  CHECK(w.store.committed[2].request.outcome == "already_cancelling");
  CHECK(w.store.committed[3].request.outcome == "already_cancelling");
  CHECK(w.mailbox.folders["Processed"].size() == 4);
  CHECK(w.mailbox.inbox.empty());
}

TEST_CASE("Processor lists a big inbox in windows and handles all of it", "[processor]") {
  World w;
  constexpr int kMails = 5001;  // one more than a listing window
  for (int i = 0; i < kMails; ++i) {
    w.mailbox.Add(Mail("someone@example.org", "Hello", "A question.", "q" + std::to_string(i) + "@x"), kFeb27Hk);
  }
  auto drained = w.processor.Drain(nullptr);
  REQUIRE(drained.ok());
  CHECK(drained->messages == kMails);
  CHECK(w.mailbox.listings == 2);
  CHECK(w.mailbox.inbox.empty());
  CHECK(w.store.committed.size() == kMails);
}

TEST_CASE("Processor never acts on a forged From, and tells the forger nothing", "[processor][identity]") {
  World w;
  w.mailbox.Add(Mail("Mallory <alice@attacker.example>", "unsubscribe", "Username: alice88", "f1@x"), kFeb27Hk);
  w.Run();
  CHECK(w.Alice().status == "active");
  auto owner = w.To("alice@example.com");
  auto forger = w.To("alice@attacker.example");
  REQUIRE(owner.size() == 1);
  REQUIRE(forger.size() == 1);
  CHECK(owner[0].raw.find("[ref:") != std::string::npos);
  // The acknowledgement reveals neither the account nor its owner.
  CHECK(forger[0].raw.find("alice88") == std::string::npos);
  CHECK(forger[0].raw.find("Alice Chan") == std::string::npos);
  CHECK(forger[0].raw.find("[ref:") == std::string::npos);
  CHECK(w.store.tokens.size() == 1);
  CHECK(w.store.tokens.begin()->first != TokenIn(owner[0].raw));  // only the hash is stored
}

TEST_CASE("Processor carries out a confirmed request once, as of the original arrival", "[processor][token]") {
  World w;
  w.mailbox.Add(Mail("alice@attacker.example", "unsubscribe", "Username: alice88", "f1@x"), kFeb27Hk);
  w.Run();
  std::string token = TokenIn(w.To("alice@example.com")[0].raw);
  // The owner presses reply two days later, after the 28 Feb renewal: the period of
  // the original mail still decides.
  std::string reply = "Yes, that was me.\n\n> Please confirm [ref:" + token + "]\n";
  w.mailbox.Add(Mail("alice@example.com", "Re: Please confirm a request for your account [ref:" + token + "]", reply, "c1@x"),
                kFeb27Hk + 2 * 86400);
  w.Run();
  CHECK(w.Alice().status == "cancelling");
  CHECK(w.Alice().ends_on == Date{2026, 2, 27});
  SECTION("a replay of the token changes nothing") {
    w.store.subscriptions.front().status = "active";  // as if KEEP had restored it
    w.mailbox.Add(Mail("alice@example.com", "Re: again [ref:" + token + "]", "again", "c2@x"), kFeb27Hk + 3 * 86400);
    w.Run();
    CHECK(w.Alice().status == "active");
    CHECK(w.store.committed.back().request.outcome == "token_invalid");
  }
  SECTION("the token does not work from another address") {
    w.store.tokens.begin()->second.used_at.reset();
    w.mailbox.Add(Mail("alice@attacker.example", "Re: [ref:" + token + "]", "yes", "c3@x"), kFeb27Hk + 3 * 86400);
    w.Run();
    CHECK(w.store.committed.back().request.outcome == "token_invalid");
  }
}

TEST_CASE("Processor restores a cancelled subscription on KEEP with our token", "[processor][token]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a1@x"), kFeb27Hk);
  w.Run();
  std::string token = TokenIn(w.To("alice@example.com")[0].raw);
  w.mailbox.Add(Mail("alice@example.com", "Re: Your streaming subscription ends [ref:" + token + "]", "KEEP please", "k1@x"),
                kFeb27Hk + 3600);
  w.Run();
  CHECK(w.Alice().status == "active");
  CHECK_FALSE(w.Alice().ends_on);
  CHECK(w.store.committed.back().request.outcome == "kept");
}

TEST_CASE("Processor sends personal data only to the registered address", "[processor][access]") {
  World w;
  w.mailbox.Add(Mail("someone@else.example", "Data access request", "Please send me a copy of my personal data. Username: alice88", "d1@x"), kFeb27Hk);
  w.Run();
  for (const auto& m : w.To("someone@else.example")) {
    CHECK(m.raw.find("1 Road") == std::string::npos);
    CHECK(m.raw.find("+852 1234") == std::string::npos);
  }
  w.mailbox.Add(Mail("alice@example.com", "Data access request", "Please send me a copy of my personal data.", "d2@x"), kFeb27Hk);
  w.Run();
  auto owner = w.To("alice@example.com");
  REQUIRE(owner.size() == 2);  // the confirmation request, then the data
  CHECK(owner[1].raw.find("1 Road") != std::string::npos);
  CHECK(owner[1].raw.find("Request received 2026-02-27: access (confirmation_sent)") != std::string::npos);
}

TEST_CASE("Processor refuses an invalid correction and applies a valid one", "[processor][correction]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Update my details", "Please correct my data.\nTelephone: call me maybe\n", "r1@x"), kFeb27Hk);
  w.Run();
  CHECK(w.store.customers["alice88"].telephone == "+852 1234");
  CHECK(w.store.committed.back().request.outcome == "correction_refused");
  w.mailbox.Add(Mail("alice@example.com", "Update my details", "Please correct my data.\nTelephone: +852 9999 0000\n", "r2@x"), kFeb27Hk);
  w.Run();
  CHECK(w.store.customers["alice88"].telephone == "+852 9999 0000");
  CHECK(w.store.committed.back().audit.size() == 1);
}

TEST_CASE("Processor opts a non-customer out by suppressing the address", "[processor][marketing]") {
  World w;
  w.mailbox.Add(Mail("stranger@example.org", "Stop sending me newsletters", "Please stop all promotional emails.", "m1@x"), kFeb27Hk);
  w.Run();
  REQUIRE(w.store.committed.size() == 1);
  CHECK(w.store.committed[0].suppress_email == std::optional<std::string>("stranger@example.org"));
  CHECK(w.To("stranger@example.org").size() == 1);
}

TEST_CASE("Processor leaves a reply in the outbox on a transient failure", "[processor][outbox]") {
  World w;
  w.sender.fail_next = Status::Transient("421 try later");
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "a1@x"), kFeb27Hk);
  w.Run();
  REQUIRE(w.store.outbox.size() == 1);
  CHECK(w.store.outbox[0].status == "pending");
  CHECK(w.store.outbox[0].attempts == 1);
  w.clock.now += 3600;
  REQUIRE(w.outbox.SendDue(nullptr, 5, true).ok());
  CHECK(w.store.outbox[0].status == "sent");
  CHECK(w.sender.sent.size() == 1);
  SECTION("and marks it failed on a permanent one") {
    w.mailbox.Add(Mail("alice@example.com", "Data access request", "copy of my personal data", "a9@x"), kFeb27Hk);
    w.sender.fail_next = Status::Permanent("550 no such user");
    w.Run();
    CHECK(w.store.outbox.back().status == "failed");
    CHECK(w.store.outbox.back().last_error.find("550") != std::string::npos);
  }
}

TEST_CASE("Processor rate-limits replies per recipient and overall", "[processor][ratelimit]") {
  World w;
  w.config.smtp.max_per_recipient_per_day = 2;
  for (int i = 0; i < 4; ++i) {
    w.mailbox.Add(Mail("x" + std::to_string(i) + "@forger.example", "unsubscribe",
                       "Username: alice88", "rl" + std::to_string(i) + "@x"), kFeb27Hk);
  }
  w.Run();
  CHECK(w.To("alice@example.com").size() == 2);  // the owner is not flooded
  CHECK(w.To("x3@forger.example").size() == 1);
  SECTION("the hourly ceiling pauses sending and keeps the rest") {
    w.config.smtp.max_per_hour = static_cast<int>(w.sender.sent.size());
    w.mailbox.Add(Mail("alice@example.com", "Data access request", "copy of my personal data", "rl9@x"), kFeb27Hk);
    w.Run();
    CHECK(w.store.outbox.back().status == "pending");
  }
}

// `count` replies due now, each to its own address (c0@example.com, ...).
void AddDueReplies(World& w, int count) {
  for (int i = 0; i < count; ++i) {
    OutboxRow row;
    row.id = i + 1;
    row.message_id = "r" + std::to_string(i) + "@shop.example";
    row.recipient = "c" + std::to_string(i) + "@example.com";
    row.raw = "Subject: reply\r\n\r\nhello\r\n";
    row.next_attempt_at = w.clock.now;
    w.store.outbox.push_back(row);
  }
}

TEST_CASE("Outbox marks each reply as soon as it is sent", "[outbox]") {
  World w;
  AddDueReplies(w, 250);
  SECTION("all of it, in two batches of due replies") {
    auto sent = w.outbox.SendDue(nullptr, 5, true);
    REQUIRE(sent.ok());
    CHECK(sent->sent == 250);
    CHECK(w.sender.sent.size() == 250);
    CHECK(w.store.mark_calls == 250);
    CHECK(w.store.outbox.back().status == "sent");
  }
  SECTION("a stop mid-batch records what was sent and leaves the rest untouched") {
    bool stop = false;
    w.sender.stop_flag = &stop;
    w.sender.stop_after = 3;
    auto sent = w.outbox.SendDue(&stop, 5, true);
    REQUIRE(sent.ok());
    CHECK(sent->sent == 3);
    CHECK(w.store.mark_calls == 3);
    CHECK(w.store.outbox[2].status == "sent");
    CHECK(w.store.outbox[3].status == "pending");
    CHECK(w.store.outbox[3].attempts == 0);
  }
}

TEST_CASE("Outbox pauses all sending while the server is down", "[outbox]") {
  World w;
  AddDueReplies(w, 3);
  w.sender.fail_next = Status::Transient(std::string(kServerUnavailable) + "Connection refused");
  REQUIRE(w.outbox.SendDue(nullptr, 3600, true).ok());
  // One try found the server down: the other replies were not tried (nor counted).
  CHECK(w.store.outbox[0].attempts == 1);
  CHECK(w.store.outbox[1].attempts == 0);
  CHECK(w.sender.sent.empty());
  REQUIRE(w.outbox.SendDue(nullptr, 3600, true).ok());
  CHECK(w.sender.sent.empty());  // paused
  w.clock.now += 6;
  REQUIRE(w.outbox.SendDue(nullptr, 3600, true).ok());
  CHECK(w.sender.sent.size() == 2);  // the first waits for its own backoff
  CHECK(w.store.outbox[0].status == "pending");
}

TEST_CASE("Processor hints each next chunk once the chunk before it is fetched", "[processor]") {
  World w;
  for (int i = 0; i < 600; ++i) {  // chunks of at most 250
    w.mailbox.Add(Mail("someone@example.org", "Hello", "A question.", "c" + std::to_string(i) + "@x"), kFeb27Hk);
  }
  REQUIRE(w.processor.Drain(nullptr).ok());
  REQUIRE(w.mailbox.fetched.size() == 3);
  // The hint for chunk k+1 names exactly what its Fetch then asks for; none after the last.
  REQUIRE(w.mailbox.prefetched.size() == 2);
  CHECK(w.mailbox.prefetched[0] == w.mailbox.fetched[1]);
  CHECK(w.mailbox.prefetched[1] == w.mailbox.fetched[2]);
  CHECK(w.mailbox.fetched[0].front() == 1);
  CHECK(w.mailbox.fetched[2].back() == 600);
}

TEST_CASE("Processor moves nothing of a chunk whose group fails to commit", "[processor]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "g1@x"), kFeb27Hk);
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "g2@x"), kFeb27Hk);
  bool woken = false;
  w.processor.OnRecorded([&] { woken = true; });
  w.store.fail_end_group = Status::Transient("disk I/O error");
  auto drained = w.processor.Drain(nullptr);
  CHECK_FALSE(drained.ok());
  CHECK(w.store.groups_ended == 1);  // both mails (two passes: one account) in one group
  CHECK(w.mailbox.inbox.size() == 2);  // left for the next try
  CHECK(w.mailbox.folders.empty());
  CHECK_FALSE(woken);  // the sender is not told of replies that are not recorded
  CHECK(w.store.committed.size() == 2);  // (the fake keeps what a real store undoes)
}

TEST_CASE("Processor logs no mail of a chunk whose group fails to commit", "[processor]") {
  World w;
  w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "h1@x"), kFeb27Hk);
  w.store.fail_end_group = Status::Transient("disk I/O error");
  CapturedStderr captured;
  CHECK_FALSE(w.processor.Drain(nullptr).ok());
  CHECK(captured.Text().empty());  // no "message" line for a mail that was not recorded
}

TEST_CASE("Processor gives no hint when a suspect's lone fetch comes next", "[processor][poison]") {
  // A mail tried before is fetched on its own after its chunk: a hint sent before that
  // would be dropped by the server session unread.
  World w;
  for (int i = 0; i < 300; ++i) {
    w.mailbox.Add(Mail("someone@example.org", "Hello", "A question.", "s" + std::to_string(i) + "@x"), kFeb27Hk);
  }
  w.store.attempts["7:3"] = 1;
  REQUIRE(w.processor.Drain(nullptr).ok());
  CHECK(w.mailbox.fetched.size() == 3);  // 249 fresh, the suspect alone, then 50
  CHECK(w.mailbox.fetched[1] == std::vector<uint32_t>{3});
  CHECK(w.mailbox.prefetched.empty());
  CHECK(w.mailbox.inbox.empty());
}

TEST_CASE("Processor quarantines a message that failed three times", "[processor][poison]") {
  World w;
  uint32_t uid = w.mailbox.Add(Mail("alice@example.com", "Unsubscribe", "Username: alice88", "p1@x"), kFeb27Hk);
  w.store.attempts["7:" + std::to_string(uid)] = Processor::kMaxAttempts;
  w.mailbox.Add(Mail("bob@example.net", "Hello", "What time is it?", "p2@x"), kFeb27Hk);
  w.Run();
  CHECK(w.mailbox.folders["Quarantine"].size() == 1);
  CHECK(w.mailbox.folders["Needs-Review"].size() == 1);
  CHECK(w.Alice().status == "active");
  CHECK(w.store.attempts.empty());
}

TEST_CASE("Processor never answers an auto-reply", "[processor]") {
  World w;
  std::string raw = Mail("alice@example.com", "Out of office", "Username: alice88 unsubscribe", "o1@x");
  raw.insert(0, "Auto-Submitted: auto-replied\r\n");
  w.mailbox.Add(raw, kFeb27Hk);
  w.Run();
  CHECK(w.sender.sent.empty());
  CHECK(w.Alice().status == "active");
}

}  // namespace
}  // namespace mailreqd
