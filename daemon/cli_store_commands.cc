// The operator commands that work on the database: import, show, requests, handled,
// backup.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "daemon/cli_commands.h"
#include "daemon/csv_import.h"
#include "daemon/sqlite_store.h"
#include "daemon/store_json.h"

namespace mailreqd {
namespace {

struct Opened {
  Config config;
  std::unique_ptr<SqliteStore> store;
};

// Loads the config and opens its database; prints the reason and returns nullopt on error.
std::optional<Opened> Open(const Args& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return std::nullopt;
  }
  auto store = SqliteStore::Open(config->database);
  if (!store.ok()) {
    std::fprintf(stderr, "mailreqd: %s: %s\n", config->database.c_str(),
                 store.status().message().c_str());
    return std::nullopt;
  }
  return Opened{std::move(*config), std::move(*store)};
}

Date Today(const Config& c) {
  auto d = LocalDateOf(std::time(nullptr), c.timezone);
  return d ? *d : Date{};
}

int Fail(const Status& s) {
  std::fprintf(stderr, "mailreqd: %s\n", s.message().c_str());
  return 1;
}

// A request id as `requests` prints it ("#12" or "12"); 0 when it is not one.
int64_t RequestId(std::string text) {
  if (!text.empty() && text[0] == '#') text.erase(0, 1);
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(text);
}

// Who marks a request handled, for the audit: the login that ran the command.
std::string Operator() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::string("operator ") + v;
  }
  return "operator";
}

}  // namespace

int ImportCommand(const Args& args, bool customers) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "mailreqd %s: give one FILE.csv\n", args.command.c_str());
    return 64;
  }
  auto db = Open(args);
  if (!db) return 78;
  const std::string& file = args.positional[0];
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read the file\n", file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::map<std::string, BillingPeriod> services;
  for (const auto& s : db->config.services) services[s.name] = s.period;
  ImportResult r = customers ? ImportCustomers(*db->store, ss.str(), file)
                             : ImportSubscriptions(*db->store, ss.str(), file, services);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.c_str());
  if (!r.errors.empty()) {
    std::fprintf(stderr, "%s: %zu bad rows; nothing imported\n", file.c_str(), r.errors.size());
    return 1;
  }
  if (!r.status.ok()) return Fail(r.status);
  std::printf("%s: imported %zu rows\n", file.c_str(), r.imported);
  return 0;
}

int ShowCommand(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "mailreqd show: give one USERNAME\n");
    return 64;
  }
  auto db = Open(args);
  if (!db) return 78;
  auto customer = db->store->FindCustomer(args.positional[0]);
  if (!customer.ok()) return Fail(customer.status());
  if (!*customer) {
    std::fprintf(stderr, "mailreqd show: no customer \"%s\"\n", args.positional[0].c_str());
    return 1;
  }
  auto subs = db->store->Subscriptions(args.positional[0]);
  if (!subs.ok()) return Fail(subs.status());
  std::printf("%s\n", CustomerJson(**customer, *subs, Today(db->config)).c_str());
  return 0;
}

int RequestsCommand(const Args& args) {
  auto db = Open(args);
  if (!db) return 78;
  std::optional<int64_t> since;
  if (!args.since.empty()) {
    auto d = ParseIsoDate(args.since);
    if (!d) {
      std::fprintf(stderr, "mailreqd requests: --since wants YYYY-MM-DD\n");
      return 64;
    }
    // A day as the operator lives it: from midnight in the configured zone.
    since = LocalMidnight(*d, db->config.timezone);
    if (!since) return Fail(Status::Permanent("unknown timezone " + db->config.timezone));
  }
  auto rows = args.due ? db->store->DueRequests()
                       : db->store->Requests(since, args.kind.empty()
                                                        ? std::nullopt
                                                        : std::optional<std::string>(args.kind));
  if (!rows.ok()) return Fail(rows.status());
  for (const auto& r : *rows) {
    if (args.json) {
      std::printf("%s\n", RequestJson(r).c_str());
      continue;
    }
    const std::string when = LocalDateTime(r.arrived, db->config.timezone);
    std::printf("#%-6lld %s  %-16s %-18s %-10s %s%s\n", static_cast<long long>(r.id), when.c_str(),
                r.kind.c_str(), r.outcome.c_str(),
                r.due_on ? IsoDate(*r.due_on).c_str() : "-", r.detail.c_str(),
                r.message_id.empty() ? "" : ("  <" + r.message_id + ">").c_str());
  }
  return 0;
}

int HandledCommand(const Args& args) {
  std::vector<int64_t> ids;
  for (const auto& text : args.positional) ids.push_back(RequestId(text));
  if (ids.empty() || std::count(ids.begin(), ids.end(), 0) > 0) {
    std::fprintf(stderr, "mailreqd handled: give the ids of requests (from `requests --due`)\n");
    return 64;
  }
  auto db = Open(args);
  if (!db) return 78;
  int rc = 0;
  for (int64_t id : ids) {
    Status s = db->store->MarkHandled(id, Operator());
    if (!s.ok()) {
      rc = Fail(s);
      continue;
    }
    std::printf("request #%lld handled\n", static_cast<long long>(id));
  }
  return rc;
}

int BackupCommand(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "mailreqd backup: give one FILE\n");
    return 64;
  }
  auto db = Open(args);
  if (!db) return 78;
  Status s = db->store->Backup(args.positional[0]);
  if (!s.ok()) return Fail(s);
  std::printf("backup written to %s\n", args.positional[0].c_str());
  return 0;
}

}  // namespace mailreqd
