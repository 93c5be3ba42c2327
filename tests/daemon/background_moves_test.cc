// MergeMoveJobs: the moves queued while the mover was busy or waiting, as few MOVE
// commands as their folders and UIDVALIDITYs allow.
#include "daemon/background_moves.h"

#include <catch2/catch.hpp>

namespace mailreqd {

TEST_CASE("MergeMoveJobs makes one job per folder and UIDVALIDITY, in first-seen order",
          "[moves]") {
  const std::deque<MoveJob> queued = {
      {{1, 2, 4}, "Processed", 7}, {{3}, "Needs-Review", 7}, {{5, 6}, "Processed", 7},
      {{9}, "Processed", 8},       {{8}, "Needs-Review", 7}, {{10}, "Quarantine", 7},
  };
  const std::vector<MoveJob> merged = MergeMoveJobs(queued);
  REQUIRE(merged.size() == 4);
  CHECK(merged[0].folder == "Processed");
  CHECK(merged[0].uidvalidity == 7);
  CHECK(merged[0].uids == std::vector<uint32_t>{1, 2, 4, 5, 6});
  CHECK(merged[1].folder == "Needs-Review");
  CHECK(merged[1].uids == std::vector<uint32_t>{3, 8});
  // Another UIDVALIDITY names other mail: never merged with the first.
  CHECK(merged[2].folder == "Processed");
  CHECK(merged[2].uidvalidity == 8);
  CHECK(merged[2].uids == std::vector<uint32_t>{9});
  CHECK(merged[3].folder == "Quarantine");
}

TEST_CASE("MergeMoveJobs of nothing is nothing", "[moves]") { CHECK(MergeMoveJobs({}).empty()); }

}  // namespace mailreqd
