#include "daemon/cli_commands.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "daemon/json.h"
#include "parsers/classify.h"
#include "parsers/message.h"
#include "templates/templates.h"

namespace mailreqd {
namespace {

std::optional<std::string> OrNull(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::string FieldsJson(const std::map<std::string, std::string>& fields) {
  if (fields.empty()) return "null";
  JsonObject o;
  for (const auto& [k, v] : fields) o.Add(k, v);
  return o.str();
}

std::string ClassifyJson(const std::string& file, const Message& m, const Request& r) {
  JsonObject o;
  o.Add("file", file)
      .Add("message_id", OrNull(m.message_id))
      .Add("from", OrNull(m.from.addr))
      .Add("subject", m.subject)
      .Add("kind", KindName(r.kind))
      .Add("username", r.username)
      .Add("service", r.service)
      .Raw("fields", FieldsJson(r.fields))
      .Add("token", r.token)
      .Add("no_reply", r.no_reply);
  return o.str();
}

}  // namespace

int CheckConfigCommand(const Args& args) {
  auto config = LoadConfig(args.config);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 78;
  }
  auto templates = TemplateSet::Load(config->templates_dir);
  if (!templates.ok()) {
    std::fprintf(stderr, "%s\n", templates.status().message().c_str());
    return 78;
  }
  std::printf("%s: ok\n", args.config.c_str());
  return 0;
}

int ClassifyCommand(const Args& args) {
  ClassifyConfig cc;
  if (!args.config.empty()) {
    auto config = LoadConfig(args.config);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", config.status().message().c_str());
      return 78;
    }
    cc = config->ForClassify();
  }
  if (args.positional.empty()) {
    std::fprintf(stderr, "mailreqd classify: give one or more FILE.eml\n");
    return 64;
  }
  int rc = 0;
  for (const auto& file : args.positional) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "mailreqd classify: %s: cannot read the file\n", file.c_str());
      rc = 1;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto msg = ParseMessage(ss.str());
    Message m = msg.ok() ? *msg : Message{};
    Request r = msg.ok() ? Classify(m, cc) : Request{};
    if (!msg.ok()) r.no_reply = "unparseable: " + msg.status().message();
    std::printf("%s\n", ClassifyJson(file, m, r).c_str());
  }
  return rc;
}

}  // namespace mailreqd
