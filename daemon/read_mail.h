// ReadMail: a fetched mail parsed, keyed and classified, once per chunk however many
// passes it waits through (processor.h), and on both cores: parsing and classifying were
// a third of the reading thread's CPU, and every mail of a drain waits for that thread.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "daemon/ports.h"
#include "parsers/classify.h"
#include "parsers/message.h"

namespace mailreqd {

struct ReadMail {
  const RawMessage* raw = nullptr;
  Status parsed;    // why the mail could not be parsed, if it could not
  Message msg;      // empty unless parsed
  Request request;  // kUnknown unless parsed
  std::string key;  // RequestKey (processor.h)
};

ReadMail ReadOne(const RawMessage& raw, const ClassifyConfig& config);

// ReadOne of each of `raws`, in order, split between this thread and one more when there
// are enough to be worth a thread. The results point into `raws`.
std::vector<ReadMail> ReadAll(std::span<const RawMessage> raws, const ClassifyConfig& config);

}  // namespace mailreqd
