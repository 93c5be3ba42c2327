// The ports' shared helpers.
#include <catch2/catch.hpp>

#include "daemon/ports.h"

namespace mailreqd {
namespace {

std::vector<uint32_t> Uids(const std::vector<PendingMessage>& v) {
  std::vector<uint32_t> out;
  for (const auto& m : v) out.push_back(m.uid);
  return out;
}

TEST_CASE("KeepOldest keeps the lowest UIDs above `after`, sorted", "[ports]") {
  std::vector<PendingMessage> listed;
  for (uint32_t uid : {9, 3, 7, 1, 5, 8, 2}) listed.push_back({uid, 1, 100});
  SECTION("a window") {
    KeepOldest(listed, 2, 3);
    CHECK(Uids(listed) == std::vector<uint32_t>{3, 5, 7});
  }
  SECTION("no limit") {
    KeepOldest(listed, 0, SIZE_MAX);
    CHECK(Uids(listed) == std::vector<uint32_t>{1, 2, 3, 5, 7, 8, 9});
  }
  SECTION("nothing above `after`") {
    KeepOldest(listed, 9, 3);
    CHECK(listed.empty());
  }
}

}  // namespace
}  // namespace mailreqd
