// Rules on stored values that every Store reader shares.
#include "daemon/store.h"

namespace mailreqd {

std::string EffectiveStatus(const Subscription& s, Date today) {
  // The stored status only changes when a request is processed; the day a cancelled
  // subscription lapses passes without one, so readers derive "ended" themselves.
  if (s.ends_on && *s.ends_on < today) return "ended";
  return s.status;
}

}  // namespace mailreqd
