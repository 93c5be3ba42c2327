#include "config/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "config/yaml_reader.h"
#include "daemon/maildir_names.h"

namespace mailreqd {
namespace {

std::string AddrOf(const std::string& from) {
  auto lt = from.find('<');
  auto gt = from.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return from.substr(lt + 1, gt - lt - 1);
  }
  return from;
}

// Enough to catch typos and placeholders ("support", "a@", "x y@z"); SMTP has the last word.
bool LooksLikeAddress(const std::string& a) {
  auto at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size()) return false;
  if (a.find('.', at) == std::string::npos) return false;
  for (unsigned char c : a) {
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == 0x7f) return false;
  }
  return true;
}

// A zero timeout means "wait forever" to libcurl, which would starve the watchdog.
int PositiveDuration(YamlReader& r, const YAML::Node& n, const std::string& name, const char* key,
                     int dflt) {
  int v = r.Duration(n, name, key, dflt);
  if (v < 1) {
    r.Error(n[key], name, "must be at least 1s");
    return dflt;
  }
  return v;
}

LogFormat ReadLogFormat(YamlReader& r, const YAML::Node& root) {
  std::string f = r.String(root, "log_format", "log_format", false, "auto");
  if (f == "auto") return LogFormat::kAuto;
  if (f == "text") return LogFormat::kText;
  if (f == "json") return LogFormat::kJson;
  r.Error(root["log_format"], "log_format", "must be auto, text or json, not \"" + f + "\"");
  return LogFormat::kAuto;
}

// imap(s)://host/INBOX, or a local Maildir: maildir:///abs/path (see maildir_names.h).
std::string ReadMailboxUrl(YamlReader& r, const YAML::Node& n) {
  YAML::Node v = n["url"];
  if (!v || !v.IsScalar() || !IsMaildirUrl(v.Scalar())) {
    return r.Url(n, "mailbox.url", "url", {"imap", "imaps"});
  }
  // A relative path would depend on the directory the daemon happens to start in.
  if (MaildirPathOfUrl(v.Scalar()).empty()) {
    r.Error(v, "mailbox.url",
            "must name an absolute path, like maildir:///var/mail/support/Maildir");
  }
  return v.Scalar();
}

// In a Maildir, folders are directories next to cur/: a name must not climb out of it.
void CheckMaildirFolders(YamlReader& r, const YAML::Node& n, const MailboxConfig& m) {
  const std::pair<const char*, const std::string*> folders[] = {
      {"processed_folder", &m.processed_folder},
      {"review_folder", &m.review_folder},
      {"quarantine_folder", &m.quarantine_folder}};
  for (const auto& [key, name] : folders) {
    if (MaildirFolderDir(*name).empty()) {
      r.Error(n[key], std::string("mailbox.") + key,
              "must be a Maildir++ folder name (no leading or trailing '.' or '/', no \"..\")");
    }
  }
}

void ReadMailbox(YamlReader& r, const YAML::Node& n, MailboxConfig& m) {
  if (!r.Keys(n, "mailbox", {"url", "username", "password_file", "oauth2_token_file",
                             "processed_folder", "review_folder",
                        "quarantine_folder", "ca_file", "insecure_skip_verify",
                        "require_starttls", "poll_interval", "timeout"})) {
    return;
  }
  m.url = ReadMailboxUrl(r, n);
  bool maildir = IsMaildirUrl(m.url);
  m.username = r.String(n, "mailbox.username", "username", !maildir);  // no login to a Maildir
  m.password_file = r.String(n, "mailbox.password_file", "password_file", false);
  m.oauth2_token_file = r.String(n, "mailbox.oauth2_token_file", "oauth2_token_file", false);
  m.processed_folder = r.String(n, "mailbox.processed_folder", "processed_folder", false,
                                m.processed_folder);
  m.review_folder = r.String(n, "mailbox.review_folder", "review_folder", false, m.review_folder);
  m.quarantine_folder =
      r.String(n, "mailbox.quarantine_folder", "quarantine_folder", false, m.quarantine_folder);
  m.ca_file = r.String(n, "mailbox.ca_file", "ca_file", false);
  m.insecure_skip_verify = r.Bool(n, "mailbox.insecure_skip_verify", "insecure_skip_verify", false);
  m.require_starttls = r.Bool(n, "mailbox.require_starttls", "require_starttls", true);
  m.poll_interval_s = PositiveDuration(r, n, "mailbox.poll_interval", "poll_interval", 60);
  m.timeout_s = PositiveDuration(r, n, "mailbox.timeout", "timeout", 30);
  if (maildir) CheckMaildirFolders(r, n, m);
}

void ReadSmtp(YamlReader& r, const YAML::Node& n, SmtpConfig& s) {
  if (!r.Keys(n, "smtp", {"url", "from", "username", "password_file", "ca_file", "require_tls",
                          "timeout", "max_attempts", "max_per_recipient_per_day",
                          "max_per_hour", "connections"})) {
    return;
  }
  s.url = r.Url(n, "smtp.url", "url", {"smtp", "smtps"});
  s.from = r.String(n, "smtp.from", "from", true);
  s.from_addr = AddrOf(s.from);
  if (!s.from.empty() && !LooksLikeAddress(s.from_addr)) {
    r.Error(n["from"], "smtp.from", "must contain an address like support@example.com");
  }
  s.username = r.String(n, "smtp.username", "username", false);
  s.password_file = r.String(n, "smtp.password_file", "password_file", false);
  s.ca_file = r.String(n, "smtp.ca_file", "ca_file", false);
  s.require_tls = r.Bool(n, "smtp.require_tls", "require_tls", false);
  s.timeout_s = PositiveDuration(r, n, "smtp.timeout", "timeout", 30);
  s.max_attempts = r.Int(n, "smtp.max_attempts", "max_attempts", s.max_attempts, 1, 100);
  s.max_per_recipient_per_day = r.Int(n, "smtp.max_per_recipient_per_day",
                                      "max_per_recipient_per_day", s.max_per_recipient_per_day,
                                      1, 1000000);
  s.max_per_hour = r.Int(n, "smtp.max_per_hour", "max_per_hour", s.max_per_hour, 1, 10000000);
  s.connections = r.Int(n, "smtp.connections", "connections", s.connections, 1, 32);
}

void ReadServices(YamlReader& r, const YAML::Node& list, std::vector<ServiceConfig>& out) {
  if (!list.IsSequence() || list.size() == 0) {
    r.Error(list, "services", "must be a non-empty list of {name, period, aliases}");
    return;
  }
  std::set<std::string> seen;
  for (const auto& n : list) {
    if (!r.Keys(n, "services[]", {"name", "period", "aliases"})) continue;
    ServiceConfig s;
    s.name = r.String(n, "services[].name", "name", true);
    std::string period = r.String(n, "services[].period", "period", true);
    if (auto p = ParsePeriod(period)) {
      s.period = *p;
    } else if (!period.empty()) {
      r.Error(n["period"], "services[].period", "must be monthly or yearly, not \"" + period + "\"");
    }
    s.aliases = r.StringList(n, "services[].aliases", "aliases");
    if (!s.name.empty() && !seen.insert(s.name).second) {
      r.Error(n["name"], "services[].name", "duplicate service \"" + s.name + "\"");
    }
    out.push_back(std::move(s));
  }
}

void ReadKeywords(YamlReader& r, const YAML::Node& n,
                  std::map<RequestKind, std::vector<std::string>>& out) {
  if (!n.IsMap()) {
    r.Error(n, "keywords", "must map request kinds to lists of words");
    return;
  }
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    auto kind = ParseKind(name);
    if (!kind || *kind == RequestKind::kConfirm || *kind == RequestKind::kUnknown) {
      r.Error(kv.first, "keywords." + name,
              "unknown request kind (unsubscribe, access, correction, policy, marketing_optout)");
      continue;
    }
    out[*kind] = r.StringList(n, "keywords." + name, name.c_str());
  }
}

void ReadCompany(YamlReader& r, const YAML::Node& n, CompanyConfig& c) {
  if (!r.Keys(n, "company", {"name", "privacy_officer", "privacy_email", "postal_address"})) return;
  c.name = r.String(n, "company.name", "name", false, c.name);
  c.privacy_officer = r.String(n, "company.privacy_officer", "privacy_officer", false,
                               c.privacy_officer);
  c.privacy_email = r.String(n, "company.privacy_email", "privacy_email", false);
  if (!c.privacy_email.empty() && !LooksLikeAddress(c.privacy_email)) {
    r.Error(n["privacy_email"], "company.privacy_email", "must be an address like privacy@example.com");
  }
  c.postal_address = r.String(n, "company.postal_address", "postal_address", false);
}

void ReadTop(YamlReader& r, const YAML::Node& root, Config& c) {
  r.Keys(root, "", {"mailbox", "smtp", "database", "timezone", "services", "company",
                    "templates_dir", "token_ttl", "trusted_authserv_ids", "log_format",
                    "keywords"});
  if (r.Required(root, "mailbox", "mailbox")) ReadMailbox(r, root["mailbox"], c.mailbox);
  if (r.Required(root, "smtp", "smtp")) ReadSmtp(r, root["smtp"], c.smtp);
  c.database = r.String(root, "database", "database", true);
  c.timezone = r.String(root, "timezone", "timezone", false, c.timezone);
  if (!IsKnownZone(c.timezone)) {
    r.Error(root["timezone"], "timezone", "unknown time zone \"" + c.timezone + "\"");
  }
  if (r.Required(root, "services", "services")) ReadServices(r, root["services"], c.services);
  if (root["company"]) ReadCompany(r, root["company"], c.company);
  c.templates_dir = r.String(root, "templates_dir", "templates_dir", false);
  c.token_ttl_days = r.Duration(root, "token_ttl", "token_ttl", 7 * 86400) / 86400;
  c.trusted_authserv_ids = r.StringList(root, "trusted_authserv_ids", "trusted_authserv_ids");
  if (root["keywords"]) ReadKeywords(r, root["keywords"], c.keywords);
  if (c.token_ttl_days < 1) r.Error(root["token_ttl"], "token_ttl", "must be at least 1d");
  c.log_format = ReadLogFormat(r, root);
}

}  // namespace

const ServiceConfig* Config::FindService(const std::string& name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

ClassifyConfig Config::ForClassify() const {
  ClassifyConfig c;
  for (const auto& s : services) c.services.push_back({s.name, s.aliases});
  std::string own = smtp.from_addr;
  for (auto& ch : own) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!own.empty()) c.own_addresses.push_back(own);
  c.extra_keywords = keywords;
  return c;
}

Result<Config> ParseConfig(const std::string& yaml_text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::Fatal(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return Status::Fatal(path + ": the config must be a YAML mapping");
  YamlReader reader(path);
  Config c;
  c.path = path;
  ReadTop(reader, root, c);
  if (!reader.errors().empty()) return Status::Fatal(reader.Joined());
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Fatal(path + ": cannot read the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::Fatal(path + ": cannot read the secret file");
  // A secret others can read is no longer secret: refuse it, like ssh does for keys.
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return Status::Fatal(path + ": secret file is readable by group or others; chmod 600 it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Fatal(path + ": cannot read the secret file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string SecretPath(const std::string& password_file) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (password_file.empty() || password_file.find('/') != std::string::npos || !dir || !*dir) {
    return password_file;
  }
  return std::string(dir) + "/" + password_file;
}

}  // namespace mailreqd
