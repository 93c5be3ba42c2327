// The ports' few shared implementations: the system clock, and sending one by one.
#include <ctime>

#include "daemon/ports.h"

namespace mailreqd {

int64_t SystemClock::Now() { return static_cast<int64_t>(std::time(nullptr)); }

void Sender::SendAll(const std::string& from_addr, const std::vector<Envelope>& mails,
                     const volatile bool* stop, const SendDone& done) {
  for (size_t i = 0; i < mails.size() && !(stop && *stop); ++i) {
    if (!done(i, Send(from_addr, *mails[i].rcpt, *mails[i].raw))) break;
  }
}

}  // namespace mailreqd
