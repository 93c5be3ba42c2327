// The command line: `mailreqd COMMAND [options]`. Each command is a function returning
// the process exit status; main() only dispatches.
#pragma once

#include <string>
#include <vector>

namespace mailreqd {

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::string config;  // --config FILE
  bool once = false, dry_run = false, json = false, due = false;
  std::string since, kind;
};

// Parses argv; on a usage error returns false with `error` set.
bool ParseArgs(int argc, char** argv, Args& args, std::string& error);
int RunCommand(const Args& args);
std::string Usage();

}  // namespace mailreqd
