// The ports' few shared implementations: the system clock, sending one by one, and
// trimming a listing to a window.
#include <algorithm>
#include <ctime>

#include "daemon/ports.h"

namespace mailreqd {

void KeepOldest(std::vector<PendingMessage>& listed, uint32_t after, size_t limit) {
  std::erase_if(listed, [after](const PendingMessage& m) { return m.uid <= after; });
  auto by_uid = [](const PendingMessage& a, const PendingMessage& b) { return a.uid < b.uid; };
  if (listed.size() > limit) {
    std::nth_element(listed.begin(), listed.begin() + static_cast<std::ptrdiff_t>(limit),
                     listed.end(), by_uid);
    listed.resize(limit);
  }
  std::sort(listed.begin(), listed.end(), by_uid);
}

int64_t SystemClock::Now() { return static_cast<int64_t>(std::time(nullptr)); }

void Sender::SendAll(const std::string& from_addr, const std::vector<Envelope>& mails,
                     const volatile bool* stop, const SendDone& done,
                     const SendSettled& settled) {
  for (size_t i = 0; i < mails.size() && !(stop && *stop); ++i) {
    const bool more = done(i, Send(from_addr, *mails[i].rcpt, *mails[i].raw));
    settled();
    if (!more) break;
  }
}

}  // namespace mailreqd
