// The daemon's main loop: drain, send, wait for mail (IDLE or poll), under systemd's
// eye (READY=1 after the first good drain, STATUS= lines, WATCHDOG=1 from this loop
// only after a healthy iteration). SIGTERM/SIGINT finish the message in hand and exit;
// SIGHUP reloads the config, keeping the old one when the new one is invalid.
#pragma once

#include <string>

namespace mailreqd {

struct RunOptions {
  std::string config_path;
  bool once = false;     // drain, send, exit (0; 75 when replies are left to retry)
  bool dry_run = false;  // decide and log, change nothing, send nothing, move nothing
};

int RunDaemon(const RunOptions& options);

// True for imap://127.x, localhost and [::1]: STARTTLS is not required there.
bool IsLoopbackUrl(const std::string& url);

}  // namespace mailreqd
