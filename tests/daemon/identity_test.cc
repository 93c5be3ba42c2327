#include <catch2/catch.hpp>

#include "daemon/identity.h"

namespace mailreqd {
namespace {

const Customer kAlice{"alice88", "Alice@Example.com", "Alice", "", "", "", false};
const Customer kAlice2{"alice-work", "alice@example.com", "Alice", "", "", "", false};

TEST_CASE("ResolveIdentity verifies the registered address, ignoring case", "[identity]") {
  auto id = ResolveIdentity(" ALICE@example.COM ", std::string("alice88"), kAlice, {});
  CHECK(id.verification == Verification::kVerified);
  CHECK(id.account->username == "alice88");
}

TEST_CASE("ResolveIdentity does not verify another sender naming the account", "[identity]") {
  auto id = ResolveIdentity("alice@attacker.example", std::string("alice88"), kAlice, {});
  CHECK(id.verification == Verification::kUnverified);
  CHECK(id.account->email == kAlice.email);  // the confirmation goes here, not to the sender
}

TEST_CASE("ResolveIdentity finds the account by sender when no username is given", "[identity]") {
  CHECK(ResolveIdentity("alice@example.com", std::nullopt, std::nullopt, {kAlice}).verification ==
        Verification::kVerified);
  // Two accounts on one address: which one is meant is not for us to guess.
  CHECK(ResolveIdentity("alice@example.com", std::nullopt, std::nullopt, {kAlice, kAlice2})
            .verification == Verification::kNoAccount);
}

TEST_CASE("ResolveIdentity finds no account for an unknown username", "[identity]") {
  auto id = ResolveIdentity("alice@example.com", std::string("nobody"), std::nullopt, {kAlice});
  CHECK(id.verification == Verification::kNoAccount);
  CHECK_FALSE(id.account);
}

TEST_CASE("NormalizeAddress rejects what is not an address", "[identity]") {
  CHECK(NormalizeAddress("<Bob@X.org>") == "bob@x.org");
  CHECK(NormalizeAddress("bob") == "");
  CHECK(NormalizeAddress("a b@x.org") == "");
  CHECK(NormalizeAddress("@x.org") == "");
}

}  // namespace
}  // namespace mailreqd
