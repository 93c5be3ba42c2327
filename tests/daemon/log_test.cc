#include "daemon/log.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "tests/fakes/captured_stderr.h"

using mailreqd::CapturedStderr;
using mailreqd::Log;
using mailreqd::LogBatch;
using mailreqd::LogLevel;

TEST_CASE("LogBatch writes nothing until it is flushed, then the lines Log would write",
          "[log]") {
  CapturedStderr captured;
  Log(LogLevel::kInfo, "message", {{"uid", "1"}});
  const std::string one_line = captured.Text();
  REQUIRE(one_line.find("message uid=1\n") != std::string::npos);

  LogBatch batch;
  batch.Add(LogLevel::kInfo, "message", {{"uid", "2"}});
  batch.Add(LogLevel::kWarning, "message-not-recorded", {{"error", "two words"}});
  CHECK(captured.Text() == one_line);
  batch.Flush();
  const std::string text = captured.Text().substr(one_line.size());
  const auto second = text.find("message uid=2\n");
  const auto third = text.find("message-not-recorded error=\"two words\"\n");
  CHECK(second != std::string::npos);
  CHECK(third != std::string::npos);
  CHECK(second < third);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

TEST_CASE("LogBatch flushes what is left when it goes out of scope", "[log]") {
  CapturedStderr captured;
  {
    LogBatch batch;
    batch.Add(LogLevel::kInfo, "message", {{"uid", "7"}});
  }
  CHECK(captured.Text().find("message uid=7\n") != std::string::npos);
}
