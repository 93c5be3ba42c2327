// mailreqd: answers a customer-service mailbox. See `mailreqd --help` and mailreqd(8).
#include <cstdio>
#include <exception>

#include "daemon/cli.h"

int main(int argc, char** argv) {
  mailreqd::Args args;
  std::string error;
  if (!mailreqd::ParseArgs(argc, argv, args, error)) {
    std::fprintf(stderr, "mailreqd: %s\n\n%s", error.c_str(), mailreqd::Usage().c_str());
    return 64;  // EX_USAGE
  }
  try {
    return mailreqd::RunCommand(args);
  } catch (const std::exception& e) {  // last resort: every layer below reports by Status
    std::fprintf(stderr, "mailreqd: internal error: %s\n", e.what());
    return 70;  // EX_SOFTWARE
  }
}
