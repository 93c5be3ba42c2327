// libFuzzer target: any bytes through ParseMessage and then Classify. Neither may crash,
// hang, leak or produce invalid UTF-8. Built and run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parsers/charset.h"
#include "parsers/message.h"
#if __has_include("parsers/classify.h")
#include "parsers/classify.h"
#define MAILREQD_FUZZ_CLASSIFY 1
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  mailreqd::ParseLimits limits;
  limits.max_depth = 8;  // small limits reach the limit paths with small inputs
  limits.max_parts = 50;
  limits.max_header_line = 4096;
  mailreqd::Result<mailreqd::Message> msg = mailreqd::ParseMessage(raw, limits);
  if (!msg.ok()) return 0;
  if (!mailreqd::IsValidUtf8(msg->subject) || !mailreqd::IsValidUtf8(msg->body_text) ||
      !mailreqd::IsValidUtf8(msg->from.name))
    std::abort();
#ifdef MAILREQD_FUZZ_CLASSIFY
  mailreqd::ClassifyConfig cfg;
  cfg.services = {{"Premium", {"premium plan", "高級會員"}}, {"Basic", {}}};
  cfg.own_addresses = {"support@example.com"};
  mailreqd::Classify(*msg, cfg);
  mailreqd::NoReplyReason(*msg, cfg);
#endif
  return 0;
}
