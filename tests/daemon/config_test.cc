// The config is the operator's interface: every mistake must be reported with the exact
// file:line:column and key, all in one pass, and secrets must never leak into messages.
#include "config/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mailreqd {
namespace {

// Ten lines, so that a case can replace one of them (or append) and know its line number.
const std::vector<std::string> kMinimal = {
    "mailbox:",                                          // 1
    "  url: imap://127.0.0.1:1143/INBOX",                // 2
    "  username: support",                               // 3
    "smtp:",                                             // 4
    "  url: smtp://127.0.0.1:2525",                      // 5
    "  from: Customer Service <support@shop.example>",  // 6
    "database: /tmp/mailreqd-test.db",                   // 7
    "services:",                                         // 8
    "  - name: streaming",                               // 9
    "    period: monthly",                               // 10
};

// kMinimal with line `line` (1-based) replaced by `text`; line 0 appends `text`.
std::string Edited(int line, const std::string& text) {
  std::string out;
  for (size_t i = 0; i < kMinimal.size(); ++i) {
    out += (static_cast<int>(i) + 1 == line ? text : kMinimal[i]) + "\n";
  }
  if (line == 0) out += text + "\n";
  return out;
}

std::string ErrorOf(const std::string& yaml) {
  auto c = ParseConfig(yaml, "t.yaml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().kind() == ErrorKind::kFatal);
  return c.status().message();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mailreqd-cfg-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) const {
    std::string p = (path_ / name).string();
    std::ofstream(p) << text;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old, had_ = true;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST_CASE("ParseConfig accepts the minimal config and fills in defaults", "[config]") {
  auto c = ParseConfig(Edited(-1, ""), "t.yaml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->mailbox.processed_folder == "Processed");
  CHECK(c->mailbox.poll_interval_s == 60);
  CHECK(c->smtp.from_addr == "support@shop.example");
  CHECK(c->timezone == "Asia/Hong_Kong");
  CHECK(c->token_ttl_days == 7);
  CHECK(c->log_format == LogFormat::kAuto);
  REQUIRE(c->services.size() == 1);
  CHECK(c->services[0].period == BillingPeriod::kMonthly);
}

TEST_CASE("ParseConfig reads durations with units and the log format", "[config]") {
  auto c = ParseConfig(Edited(3, "  username: support\n  poll_interval: 5m\n  timeout: 45") +
                           "token_ttl: 14d\nlog_format: json\n",
                       "t.yaml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->mailbox.poll_interval_s == 300);
  CHECK(c->mailbox.timeout_s == 45);
  CHECK(c->token_ttl_days == 14);
  CHECK(c->log_format == LogFormat::kJson);
}

TEST_CASE("ParseConfig accepts a local Maildir without an IMAP login", "[config][maildir]") {
  auto url = GENERATE(as<std::string>{}, "maildir:///var/mail/support/Maildir",
                      "maildir:/var/mail/support/Maildir");
  INFO(url);
  // kMinimal with the url of line 2, and line 3 (the username) gone.
  std::string yaml = Edited(3, "  processed_folder: Done/2024");
  yaml.replace(yaml.find("imap://127.0.0.1:1143/INBOX"), 27, url);
  auto c = ParseConfig(yaml, "t.yaml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->mailbox.url == url);
  CHECK(c->mailbox.username.empty());
  CHECK(c->mailbox.processed_folder == "Done/2024");
}

TEST_CASE("ParseConfig names file:line:column and key for each kind of mistake", "[config]") {
  struct Case {
    int line;  // replaced line of kMinimal; 0 appends
    std::string text;
    std::string error;
  };
  Case c = GENERATE(values<Case>({
      // Unknown keys, at every level: a typo must not silently fall back to a default.
      {0, "colour: blue", "t.yaml:11:1: colour: unknown key"},
      {3, "  username: support\n  pasword_file: pw", "t.yaml:4:3: mailbox.pasword_file: unknown key"},
      {6, "  from: a@b.example\n  retries: 3", "t.yaml:7:3: smtp.retries: unknown key"},
      {10, "    period: monthly\n    price: 5", "t.yaml:11:5: services[].price: unknown key"},
      {0, "company:\n  phone: 123", "t.yaml:12:3: company.phone: unknown key"},
      // Wrong types.
      {3, "  username: {first: a}", "t.yaml:3:13: mailbox.username: must be a string"},
      {3, "  username: support\n  insecure_skip_verify: maybe",
       "t.yaml:4:25: mailbox.insecure_skip_verify: must be true or false"},
      {6, "  from: a@b.example\n  max_attempts: 500",
       "t.yaml:7:17: smtp.max_attempts: must be a whole number from 1 to 100"},
      {6, "  from: a@b.example\n  max_attempts: lots",
       "t.yaml:7:17: smtp.max_attempts: must be a whole number from 1 to 100"},
      {10, "    period: monthly\n    aliases: music",
       "t.yaml:11:14: services[].aliases: must be a list of strings"},
      {0, "trusted_authserv_ids: mx.shop.example",
       "t.yaml:11:23: trusted_authserv_ids: must be a list of strings"},
      // URLs.
      {2, "  url: http://127.0.0.1/INBOX",
       "t.yaml:2:8: mailbox.url: must be a URL starting with imap://, imaps://"},
      {5, "  url: smtp://", "t.yaml:5:8: smtp.url: must be a URL starting with smtp://, smtps://"},
      {2, "  url: maildir:Maildir",
       "t.yaml:2:8: mailbox.url: must name an absolute path, like maildir:///var/mail/support/Maildir"},
      {2, "  url: maildir://mail.example/Maildir",
       "t.yaml:2:8: mailbox.url: must name an absolute path, like maildir:///var/mail/support/Maildir"},
      {2, "  url: maildir:///srv/Maildir\n  review_folder: ../review",
       "t.yaml:3:18: mailbox.review_folder: must be a Maildir++ folder name (no leading or "
       "trailing '.' or '/', no \"..\")"},
      {5, "  url: 127.0.0.1:25", "t.yaml:5:8: smtp.url: must be a URL starting with smtp://, smtps://"},
      // Durations.
      {3, "  username: support\n  poll_interval: 5 minutes",
       "t.yaml:4:18: mailbox.poll_interval: must be a duration like 30s, 5m, 2h or 7d"},
      {3, "  username: support\n  poll_interval: 1w",
       "t.yaml:4:18: mailbox.poll_interval: must be a duration like 30s, 5m, 2h or 7d"},
      {3, "  username: support\n  timeout: 0s", "t.yaml:4:12: mailbox.timeout: must be at least 1s"},
      {6, "  from: a@b.example\n  timeout: -5",
       "t.yaml:7:12: smtp.timeout: must be a duration like 30s, 5m, 2h or 7d"},
      {0, "token_ttl: 12h", "t.yaml:11:12: token_ttl: must be at least 1d"},
      // Time zones, addresses, enumerations.
      {0, "timezone: Asia/Hong Kong", "t.yaml:11:11: timezone: unknown time zone \"Asia/Hong Kong\""},
      {0, "timezone: /etc/passwd", "t.yaml:11:11: timezone: unknown time zone \"/etc/passwd\""},
      {6, "  from: Customer Service <support>",
       "t.yaml:6:9: smtp.from: must contain an address like support@example.com"},
      {6, "  from: support@localhost",
       "t.yaml:6:9: smtp.from: must contain an address like support@example.com"},
      {0, "company:\n  privacy_email: dpo",
       "t.yaml:12:18: company.privacy_email: must be an address like privacy@example.com"},
      {10, "    period: weekly", "t.yaml:10:13: services[].period: must be monthly or yearly, not \"weekly\""},
      {0, "log_format: xml", "t.yaml:11:13: log_format: must be auto, text or json, not \"xml\""},
      // Missing and duplicate values.
      // An empty value: the error points at its key (yaml-cpp marks the next line).
      {7, "database:", "t.yaml:7:1: database: missing required value"},
      {3, "  username:", "t.yaml:3:3: mailbox.username: missing required value"},
      {0, "timezone: UTC\ntimezone: Europe/Paris",
       "t.yaml:12:1: timezone: duplicate key; the first one would be used"},
      {3, "  username: support\n  username: other",
       "t.yaml:4:3: mailbox.username: duplicate key; the first one would be used"},
      {10, "    period: monthly\n  - name: streaming\n    period: yearly",
       "t.yaml:11:11: services[].name: duplicate service \"streaming\""},
  }));
  INFO(c.text);
  CHECK(ErrorOf(Edited(c.line, c.text)) == c.error);
}

TEST_CASE("ParseConfig reports every error in one pass", "[config]") {
  std::string yaml = Edited(2, "  url: http://x/INBOX") + "colour: blue\ntimezone: Mars/Base\n";
  CHECK(ErrorOf(yaml) ==
        "t.yaml:11:1: colour: unknown key\n"
        "t.yaml:2:8: mailbox.url: must be a URL starting with imap://, imaps://\n"
        "t.yaml:12:11: timezone: unknown time zone \"Mars/Base\"");
}

TEST_CASE("ParseConfig reports misshapen sections without crashing", "[config]") {
  const std::string rest = "database: d\nservices:\n  - name: s\n    period: monthly\n";
  const std::string smtp = "smtp:\n  url: smtp://h\n  from: a@b.example\n";
  const std::string mailbox = "mailbox:\n  url: imap://h/INBOX\n  username: u\n";
  CHECK(ErrorOf("mailbox: 5\n" + smtp + rest) == "t.yaml:1:10: mailbox: must be a mapping");
  CHECK(ErrorOf(mailbox + "smtp: [a, b]\n" + rest) == "t.yaml:4:7: smtp: must be a mapping");
  CHECK(ErrorOf(mailbox + smtp + "database: d\nservices: streaming\n") ==
        "t.yaml:8:11: services: must be a non-empty list of {name, period, aliases}");
  CHECK(ErrorOf(mailbox + smtp + "database: d\nservices: []\n") ==
        "t.yaml:8:11: services: must be a non-empty list of {name, period, aliases}");
  CHECK(ErrorOf(Edited(9, "  - streaming\n  - name: x")) ==
        "t.yaml:9:5: services[]: must be a mapping");
  CHECK(ErrorOf(Edited(0, "company: acme")) == "t.yaml:11:10: company: must be a mapping");
  CHECK(ErrorOf(mailbox + smtp + "services:\n  - name: s\n    period: monthly\n") ==
        "t.yaml:1:1: database: missing required value");
}

TEST_CASE("ParseConfig names the position of YAML syntax errors", "[config]") {
  CHECK(ErrorOf(Edited(3, "\tusername: support")).rfind("t.yaml:3:", 0) == 0);
  CHECK(ErrorOf(Edited(6, "  from: \"unterminated")).rfind("t.yaml:", 0) == 0);
  CHECK(ErrorOf("- a\n- b\n") == "t.yaml: the config must be a YAML mapping");
}

TEST_CASE("Example config parses and documents every key", "[config]") {
  const std::string example = MAILREQD_SOURCE_DIR "/config/mailreqd.example.yaml";
  auto c = LoadConfig(example);
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->services.size() >= 2);
  CHECK(c->trusted_authserv_ids == std::vector<std::string>{"mx.shop.example"});

  // Every key config.cc accepts, as `key:`, in the example and in mailreqd.yaml(5).
  std::string text = ReadAll(example);
  std::string man = ReadAll(MAILREQD_SOURCE_DIR "/config/mailreqd.yaml.5");
  REQUIRE_FALSE(man.empty());
  auto key = GENERATE(as<std::string>{}, "mailbox", "url", "username", "password_file",
                      "processed_folder", "review_folder", "quarantine_folder", "ca_file",
                      "insecure_skip_verify", "require_starttls", "poll_interval", "timeout",
                      "smtp", "from", "require_tls", "max_attempts", "database", "timezone",
                      "services", "name", "period", "aliases", "company", "privacy_officer",
                      "privacy_email", "postal_address", "templates_dir", "token_ttl",
                      "trusted_authserv_ids", "log_format");
  INFO(key);
  CHECK(text.find(key + ":") != std::string::npos);
  CHECK(man.find(key) != std::string::npos);
}

TEST_CASE("ReadSecretFile reads a private file and refuses one others can read", "[config][secret]") {
  TempDir dir;
  std::string ok = dir.Write("pw", "s3cr3t-value\n", 0600);
  auto secret = ReadSecretFile(ok);
  REQUIRE(secret.ok());
  CHECK(*secret == "s3cr3t-value");

  auto mode = GENERATE(0640, 0604, 0660, 0644);
  std::string open = dir.Write("open-pw", "s3cr3t-value\n", static_cast<mode_t>(mode));
  auto refused = ReadSecretFile(open);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().kind() == ErrorKind::kFatal);
  CHECK(refused.status().message() ==
        open + ": secret file is readable by group or others; chmod 600 it");
  CHECK(refused.status().message().find("s3cr3t") == std::string::npos);
}

TEST_CASE("ReadSecretFile names a missing file without guessing", "[config][secret]") {
  auto missing = ReadSecretFile("/nonexistent/mailreqd/pw");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "/nonexistent/mailreqd/pw: cannot read the secret file");
}

TEST_CASE("SecretPath finds bare names in the systemd credentials directory", "[config][secret]") {
  SECTION("under systemd, a bare name is a credential") {
    ScopedEnv env("CREDENTIALS_DIRECTORY", "/run/credentials/mailreqd.service");
    CHECK(SecretPath("imap-password") == "/run/credentials/mailreqd.service/imap-password");
    CHECK(SecretPath("/etc/mailreqd/imap-password") == "/etc/mailreqd/imap-password");
    CHECK(SecretPath("./imap-password") == "./imap-password");
    CHECK(SecretPath("") == "");
  }
  SECTION("outside systemd, a bare name is a relative path") {
    ScopedEnv env("CREDENTIALS_DIRECTORY", nullptr);
    CHECK(SecretPath("imap-password") == "imap-password");
  }
  SECTION("a credential is read like any secret file") {
    TempDir dir;
    dir.Write("smtp-password", "hunter2\n", 0400);
    ScopedEnv env("CREDENTIALS_DIRECTORY", dir.path().c_str());
    auto secret = ReadSecretFile(SecretPath("smtp-password"));
    REQUIRE(secret.ok());
    CHECK(*secret == "hunter2");
  }
}

TEST_CASE("ParseConfig reads extra keywords per request kind", "[config]") {
  const std::string base =
      "mailbox: {url: imap://127.0.0.1:1/INBOX, username: u}\n"
      "smtp: {url: smtp://127.0.0.1:2, from: support@shop.example}\n"
      "database: /tmp/x.db\n"
      "services: [{name: streaming, period: monthly}]\n";
  auto ok = ParseConfig(base + "keywords:\n  unsubscribe: [stop my plan, 停止計劃]\n", "k.yaml");
  REQUIRE(ok.ok());
  auto cc = ok->ForClassify();
  REQUIRE(cc.extra_keywords.count(RequestKind::kUnsubscribe) == 1);
  CHECK(cc.extra_keywords.at(RequestKind::kUnsubscribe).size() == 2);
  auto bad = ParseConfig(base + "keywords:\n  cancel_everything: [x]\n", "k.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("k.yaml:6:3: keywords.cancel_everything: unknown request kind") !=
        std::string::npos);
}

}  // namespace mailreqd
