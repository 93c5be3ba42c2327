#include "daemon/cli.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config/config.h"
#include "daemon/cli_commands.h"
#include "daemon/run_loop.h"

namespace mailreqd {

std::string Usage() {
  return "usage: mailreqd COMMAND [options]\n"
         "  run --config FILE [--once] [--dry-run]   answer the mailbox (daemon unless --once)\n"
         "  check-config --config FILE               validate the config and the templates\n"
         "  classify [--config FILE] FILE.eml...     print how each mail would be classified\n"
         "  import-customers FILE.csv --config FILE  load or update customers (all or nothing)\n"
         "  import-subscriptions FILE.csv --config FILE\n"
         "  show USERNAME --config FILE              print a customer as JSON\n"
         "  requests --config FILE [--since DATE] [--kind K] [--json] [--due]\n"
         "  handled ID... --config FILE              a human dealt with these review requests\n"
         "  backup FILE --config FILE                consistent copy of the database\n"
         "  --version, --help\n";
}

bool ParseArgs(int argc, char** argv, Args& args, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        error = a + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (a == "--config" || a == "-c") {
      if (!value(args.config)) return false;
    } else if (a == "--since") {
      if (!value(args.since)) return false;
    } else if (a == "--kind") {
      if (!value(args.kind)) return false;
    } else if (a == "--once") {
      args.once = true;
    } else if (a == "--dry-run") {
      args.dry_run = true;
    } else if (a == "--json") {
      args.json = true;
    } else if (a == "--due") {
      args.due = true;
    } else if (a == "--help" || a == "-h" || a == "--version") {
      args.command = a;
    } else if (a.size() > 1 && a[0] == '-') {
      error = "unknown option " + a;
      return false;
    } else if (args.command.empty()) {
      args.command = a;
    } else {
      args.positional.push_back(a);
    }
  }
  if (args.command.empty()) {
    error = "no command given";
    return false;
  }
  return true;
}

int RunCommand(const Args& args) {
  const std::string& c = args.command;
  if (c == "--help" || c == "-h" || c == "help") {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (c == "--version") {
    std::puts("mailreqd " MAILREQD_VERSION);
    return 0;
  }
  if (c != "classify" && args.config.empty()) {
    std::fprintf(stderr, "mailreqd %s: --config FILE is required\n", c.c_str());
    return 64;
  }
  if (c == "run") return RunDaemon({args.config, args.once, args.dry_run});
  if (c == "check-config") return CheckConfigCommand(args);
  if (c == "classify") return ClassifyCommand(args);
  if (c == "import-customers") return ImportCommand(args, /*customers=*/true);
  if (c == "import-subscriptions") return ImportCommand(args, /*customers=*/false);
  if (c == "show") return ShowCommand(args);
  if (c == "requests") return RequestsCommand(args);
  if (c == "handled") return HandledCommand(args);
  if (c == "backup") return BackupCommand(args);
  std::fprintf(stderr, "mailreqd: unknown command \"%s\"\n\n%s", c.c_str(), Usage().c_str());
  return 64;
}

}  // namespace mailreqd
