// The UID state of a Maildir, kept in <root>/mailreqd-uidlist as "<uidvalidity> <next_uid>".
// The UIDs themselves travel in the file names (maildir_names.h); this file only says
// which number comes next, so that none is handed out twice, and the UIDVALIDITY that,
// with a UID, names one message across restarts.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/status.h"

namespace mailreqd {

struct MaildirUidList {
  uint32_t uidvalidity = 0;
  uint32_t next_uid = 1;
};

// Reads the state of the Maildir at `root`, creating it (UIDVALIDITY: the current time)
// when missing, unless not `create` (read-only: the fresh state is only returned).
// Transient on I/O errors. Permanent when the file holds anything but two positive
// numbers: someone edited it, and a human should look before UIDs change meaning.
Result<MaildirUidList> LoadMaildirUidList(const std::string& root, bool create = true);

// Replaces the state atomically and durably (written in <root>/tmp/, fsync, rename over,
// fsync of the root). Transient on error.
Status SaveMaildirUidList(const std::string& root, const MaildirUidList& list);

}  // namespace mailreqd
