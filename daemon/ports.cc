// The ports' few shared implementations: the system clock, and sending one by one.
#include <ctime>

#include "daemon/ports.h"

namespace mailreqd {

int64_t SystemClock::Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::vector<Status> Sender::SendAll(const std::string& from_addr,
                                    const std::vector<Envelope>& mails,
                                    const volatile bool* stop) {
  std::vector<Status> out;
  for (const auto& m : mails) {
    if (stop && *stop) break;
    out.push_back(Send(from_addr, *m.rcpt, *m.raw));
  }
  return out;
}

}  // namespace mailreqd
