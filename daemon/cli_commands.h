// The operator commands behind `mailreqd COMMAND`: each reads the config, does one job
// and returns an exit status (0 ok, 1 the job failed, 64 usage, 78 config error).
#pragma once

#include "daemon/cli.h"

namespace mailreqd {

int CheckConfigCommand(const Args& args);
int ClassifyCommand(const Args& args);
int ImportCommand(const Args& args, bool customers);
int ShowCommand(const Args& args);
int RequestsCommand(const Args& args);
int HandledCommand(const Args& args);
int BackupCommand(const Args& args);

}  // namespace mailreqd
