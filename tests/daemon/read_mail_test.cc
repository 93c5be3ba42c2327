// ReadAll: every mail of a chunk parsed, keyed and classified once, as ReadOne would,
// whether the chunk is read on one thread or two.
#include "daemon/read_mail.h"

#include <catch2/catch.hpp>

namespace mailreqd {
namespace {

RawMessage Mail(int n) {
  const std::string user = "user" + std::to_string(n);
  RawMessage raw;
  raw.uid = static_cast<uint32_t>(n + 1);
  raw.bytes = "From: " + user + "@example.com\r\nTo: support@example.com\r\n" + "Message-ID: <m" +
              std::to_string(n) + "@example.com>\r\n" +
              (n % 5 == 0 ? "Subject: privacy policy\r\n" : "Subject: unsubscribe\r\n") +
              "\r\nPlease end it.\r\nUsername: " + user + "\r\nService: news\r\n";
  return raw;
}

}  // namespace

TEST_CASE("ReadAll reads each mail as ReadOne does, in order, on one thread or two", "[read]") {
  const int count = GENERATE(0, 3, 41);
  std::vector<RawMessage> raws;
  for (int n = 0; n < count; ++n) raws.push_back(Mail(n));
  const ClassifyConfig config;
  const std::vector<ReadMail> all = ReadAll(raws, config);
  REQUIRE(all.size() == raws.size());
  for (size_t i = 0; i < raws.size(); ++i) {
    INFO("mail " << i);
    const ReadMail one = ReadOne(raws[i], config);
    CHECK(all[i].raw == &raws[i]);
    CHECK(all[i].parsed.ok());
    CHECK(all[i].key == one.key);
    CHECK(all[i].key ==
          "mid:m" + std::to_string(i) + "@example.com user" + std::to_string(i) + "@example.com");
    CHECK(all[i].request.kind == one.request.kind);
    CHECK(all[i].request.kind == (i % 5 == 0 ? RequestKind::kPolicy : RequestKind::kUnsubscribe));
    CHECK(all[i].request.username == "user" + std::to_string(i));
  }
}

TEST_CASE("ReadAll keeps a mail it cannot parse, keyed by its content", "[read]") {
  std::vector<RawMessage> raws(9, Mail(1));
  raws[4].bytes.assign(ParseLimits{}.max_message_bytes + 1, 'x');
  const std::vector<ReadMail> all = ReadAll(raws, ClassifyConfig{});
  REQUIRE(all.size() == 9);
  CHECK_FALSE(all[4].parsed.ok());
  CHECK(all[4].key.rfind("sha256:", 0) == 0);
  CHECK(all[4].request.kind == RequestKind::kUnknown);
  CHECK(all[3].parsed.ok());
  CHECK(all[5].request.kind == RequestKind::kUnsubscribe);
}

}  // namespace mailreqd
