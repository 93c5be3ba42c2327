// Config: the validated YAML configuration. LoadConfig reads and checks everything up
// front (a bad config is fatal at start, and on SIGHUP keeps the old one), so nothing
// downstream re-validates.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/log.h"
#include "daemon/period.h"
#include "daemon/status.h"
#include "parsers/classify.h"

namespace mailreqd {

struct ServiceConfig {
  std::string name;
  BillingPeriod period = BillingPeriod::kMonthly;
  std::vector<std::string> aliases;
};

struct MailboxConfig {
  std::string url;  // imap://host:port/INBOX, imaps://..., maildir:///abs/path
  std::string username;  // the IMAP login; not required for maildir:
  std::string password_file;
  std::string oauth2_token_file;  // XOAUTH2 bearer token, refreshed by an external helper
  std::string processed_folder = "Processed";
  std::string review_folder = "Needs-Review";
  std::string quarantine_folder = "Quarantine";
  std::string ca_file;              // empty: the system's CA store
  bool insecure_skip_verify = false;  // loudly logged when true
  bool require_starttls = true;       // for imap:// to a non-loopback host
  int poll_interval_s = 60;
  int timeout_s = 30;
};

struct SmtpConfig {
  std::string url;   // smtp://host:port, smtps://host:port
  std::string from;  // "Name <addr>"
  std::string from_addr;  // derived: addr part of `from`
  std::string username;
  std::string password_file;
  std::string ca_file;
  bool require_tls = false;  // STARTTLS mandatory when true (always tried when offered)
  int timeout_s = 30;
  int max_per_recipient_per_day = 5;  // more replies to one address are dropped, logged
  int max_per_hour = 500;             // all replies; when reached, sending pauses
  int max_attempts = 20;  // with backoff capped at 1 h: about a day
  int connections = 4;    // replies in flight at once, each over its own reused connection
};

struct CompanyConfig {
  std::string name = "Our company";
  std::string privacy_officer = "The Privacy Officer";
  std::string privacy_email;
  std::string postal_address;
};

struct Config {
  std::string path;  // the file it came from
  MailboxConfig mailbox;
  SmtpConfig smtp;
  std::string database;
  std::string timezone = "Asia/Hong_Kong";
  std::vector<ServiceConfig> services;
  CompanyConfig company;
  std::string templates_dir;  // operator overrides; built-in templates otherwise
  int token_ttl_days = 7;
  // authserv-ids (RFC 8601) of our own receiving servers, whose Authentication-Results
  // headers we trust; a dmarc=fail from one of them marks the mail as forged.
  std::vector<std::string> trusted_authserv_ids;
  // Extra keywords per request kind ("unsubscribe", "access", ...), matched like the
  // built-in English and Chinese ones.
  std::map<RequestKind, std::vector<std::string>> keywords;
  LogFormat log_format = LogFormat::kAuto;  // auto: text (journald-aware); json for shippers

  const ServiceConfig* FindService(const std::string& name) const;
  ClassifyConfig ForClassify() const;
};

// Reads and validates a YAML file. Errors name file:line:column and the key.
Result<Config> LoadConfig(const std::string& path);
Result<Config> ParseConfig(const std::string& yaml_text, const std::string& path);

// Reads a secret file, refusing one readable by group or others. Trailing newline cut.
// Errors name the file, never its content.
Result<std::string> ReadSecretFile(const std::string& path);

// Where a `password_file:` value points: a bare name (no '/') is a systemd credential
// (LoadCredential=NAME:...) in $CREDENTIALS_DIRECTORY when that is set; anything else is
// a path as given.
std::string SecretPath(const std::string& password_file);

}  // namespace mailreqd
