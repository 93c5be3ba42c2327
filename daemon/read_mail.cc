#include "daemon/read_mail.h"

#include <thread>

#include "daemon/processor.h"

namespace mailreqd {
namespace {

// A thread takes tens of microseconds to start, a mail about thirty to read: a few mails
// are read as fast on one.
constexpr size_t kShareFrom = 8;

}  // namespace

ReadMail ReadOne(const RawMessage& raw, const ClassifyConfig& config) {
  ReadMail m;
  m.raw = &raw;
  auto parsed = ParseMessage(raw.bytes);
  if (parsed.ok()) {
    m.msg = std::move(*parsed);
    m.request = Classify(m.msg, config);
  } else {
    m.parsed = parsed.status();
  }
  m.key = RequestKey(m.msg, raw.bytes);
  return m;
}

std::vector<ReadMail> ReadAll(std::span<const RawMessage> raws, const ClassifyConfig& config) {
  std::vector<ReadMail> out(raws.size());
  // Every other mail each: sizes vary a lot, and neighbours are as alike as any two.
  auto read_from = [&](size_t first) {
    for (size_t i = first; i < raws.size(); i += 2) out[i] = ReadOne(raws[i], config);
  };
  if (raws.size() < kShareFrom) {
    for (size_t i = 0; i < raws.size(); ++i) out[i] = ReadOne(raws[i], config);
    return out;
  }
  {
    std::jthread helper(read_from, 1);  // joined at the end of this block, even on a throw
    read_from(0);
  }
  return out;
}

}  // namespace mailreqd
