#include <ctime>

#include "daemon/ports.h"

namespace mailreqd {

int64_t SystemClock::Now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace mailreqd
