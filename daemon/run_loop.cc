#include "daemon/run_loop.h"

#include <curl/curl.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include "config/config.h"
#include "daemon/background_moves.h"
#include "daemon/dry_run.h"
#include "daemon/imap_mailbox.h"
#include "daemon/log.h"
#include "daemon/maildir_mailbox.h"
#include "daemon/outbox.h"
#include "daemon/period.h"
#include "daemon/processor.h"
#include "daemon/send_loop.h"
#include "daemon/smtp_sender.h"
#include "daemon/sqlite_store.h"

namespace mailreqd {
namespace {

volatile bool g_stop = false;
volatile bool g_reload = false;

void OnSignal(int sig) {
  if (sig == SIGHUP) {
    g_reload = true;
  } else {
    g_stop = true;
  }
}

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

constexpr int kExitTempFail = 75;  // EX_TEMPFAIL: replies left in the outbox for later
constexpr int kExitConfig = 78;    // EX_CONFIG

// Everything built from one config; rebuilt whole on SIGHUP.
struct Engine {
  Config config;
  TemplateSet templates;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Mailbox> mailbox;
  BackgroundMoves* imap = nullptr;  // the mailbox when it is IMAP: its command count
  std::unique_ptr<SmtpSender> sender;
  std::unique_ptr<DryRunStore> dry_store;
  std::unique_ptr<DryRunMailbox> dry_mailbox;
  SystemClock clock;
  std::unique_ptr<Processor> processor;
  // Sending has a database connection of its own: it runs on the SendLoop's thread.
  std::unique_ptr<SqliteStore> send_store;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<SendLoop> send_loop;  // last: stopped before what it uses goes

  // The reading side's hooks (StartSending) call the send loop, which goes first: they
  // are unhooked before any member is destroyed, so that no last commit (a store's
  // closing fold) can reach a loop that is gone.
  ~Engine() {
    if (store) store->LeaveCheckpoints(nullptr);
    if (processor) processor->OnRecorded(nullptr);
  }
};

Result<std::string> Secret(const std::string& file) {
  if (file.empty()) return std::string();
  return ReadSecretFile(SecretPath(file));
}

// `dry_run`: a Maildir is opened read-only, since even listing takes its new mail into
// cur/. (IMAP fetches with BODY.PEEK: reading marks nothing there.)
void OpenMailbox(Engine& e, const std::string& password, bool dry_run) {
  const MailboxConfig& m = e.config.mailbox;
  if (IsMaildirUrl(m.url)) {
    e.mailbox = std::make_unique<MaildirMailbox>(MaildirPathOfUrl(m.url), dry_run);
    return;
  }
  ImapEndpoint ep{m.url, m.username, password, m.oauth2_token_file, m.ca_file, m.insecure_skip_verify,
                  m.require_starttls && !IsLoopbackUrl(m.url), m.timeout_s};
  if (m.insecure_skip_verify) {
    Log(LogLevel::kWarning, "tls-verification-off", {{"mailbox", m.url}});
  }
  // Two sessions: one reads, the other moves what is recorded (background_moves.h).
  auto imap = std::make_unique<BackgroundMoves>(std::make_unique<ImapMailbox>(ep, MailboxOfUrl(m.url)),
                                                std::make_unique<ImapMailbox>(ep, MailboxOfUrl(m.url)));
  e.imap = imap.get();
  e.mailbox = std::move(imap);
}

// What the daemon watches, for systemd's STATUS: no address, no path beyond the kind.
std::string Watching(const Engine& e) {
  if (!e.imap) return "a local Maildir";
  return MaskName(e.config.mailbox.username);
}

Result<std::unique_ptr<Engine>> Build(const std::string& path, bool dry_run) {
  auto config = LoadConfig(path);
  if (!config.ok()) return config.status();
  auto e = std::make_unique<Engine>();
  e->config = std::move(*config);
  auto templates = TemplateSet::Load(e->config.templates_dir);
  if (!templates.ok()) return templates.status();
  e->templates = std::move(*templates);
  auto imap_pw = Secret(e->config.mailbox.password_file);
  if (!imap_pw.ok()) return imap_pw.status();
  auto smtp_pw = Secret(e->config.smtp.password_file);
  if (!smtp_pw.ok()) return smtp_pw.status();
  auto store = SqliteStore::Open(e->config.database);
  if (!store.ok()) return store.status();
  e->store = std::move(*store);

  OpenMailbox(*e, *imap_pw, dry_run);
  const SmtpConfig& s = e->config.smtp;
  SmtpEndpoint sp;
  sp.url = s.url;
  sp.username = s.username;
  sp.password = *smtp_pw;
  sp.ca_file = s.ca_file;
  sp.require_tls = s.require_tls;
  sp.timeout_s = s.timeout_s;
  sp.connections = s.connections;
  e->sender = std::make_unique<SmtpSender>(sp);
  Store* st = e->store.get();
  Mailbox* mb = e->mailbox.get();
  if (dry_run) {
    e->dry_store = std::make_unique<DryRunStore>(*e->store);
    e->dry_mailbox = std::make_unique<DryRunMailbox>(*e->mailbox);
    st = e->dry_store.get();
    mb = e->dry_mailbox.get();
  }
  e->processor = std::make_unique<Processor>(*mb, *st, e->clock, e->config, e->templates);
  auto send_store = SqliteStore::Open(e->config.database);
  if (!send_store.ok()) return send_store.status();
  e->send_store = std::move(*send_store);
  if (!dry_run) e->send_store->JournalSentMarks();
  e->outbox = std::make_unique<Outbox>(*e->send_store, *e->sender, e->clock, e->config);
  SetLogFormat(e->config.log_format);  // only once the whole config is accepted
  return e;
}

void SleepFor(int seconds) {
  for (int i = 0; i < seconds * 10 && !g_stop; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Capped exponential backoff with jitter, for reconnecting after a failure.
int RetryDelay(int failures) {
  static std::mt19937 rng{std::random_device{}()};
  int base = std::min(1 << std::min(failures, 8), 300);
  return base / 2 + std::uniform_int_distribution<int>(0, std::max(base / 2, 1))(rng);
}

std::string SecondsSince(std::chrono::steady_clock::time_point start) {
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", d.count());
  return buf;
}

// Sends on a thread of its own from now on, woken whenever the drain records requests.
void StartSending(Engine& e, int max_delay_s, bool give_up) {
  e.send_loop = std::make_unique<SendLoop>(*e.outbox, max_delay_s, give_up, &g_stop);
  SendLoop* loop = e.send_loop.get();
  e.processor->OnRecorded([loop] { loop->Wake(); });
  // Checkpoints copy the WAL into the database and fsync it: up to 80 MB at a time.
  // The sending thread, mostly waiting on SMTP, does them on its own connection, so
  // that the reading thread's commits never stop for one.
  SqliteStore* sender = e.send_store.get();
  loop->SetCheckpoint([sender] {
    Status s = sender->Checkpoint();
    if (!s.ok()) Log(LogLevel::kWarning, "checkpoint-failed", {{"error", s.message()}});
  });
  e.store->LeaveCheckpoints([loop] { loop->RequestCheckpoint(); });
}

int RunOnce(Engine& e, bool dry_run) {
  auto start = std::chrono::steady_clock::now();
  if (!dry_run) StartSending(e, 5, /*give_up=*/false);
  int messages = 0;
  for (int round = 0; round < 100 && !g_stop; ++round) {
    auto drained = e.processor->Drain(&g_stop);
    if (!drained.ok()) {
      Log(LogLevel::kError, "drain-failed", {{"error", drained.status().message()}});
      return kExitTempFail;
    }
    messages += drained->messages;
    if (drained->messages == 0) break;  // nothing arrived while we worked
    if (dry_run) break;  // one look is what was asked; a mail left by an error would repeat
  }
  // For scripts/bench.sh: IMAP commands per message is one of its figures.
  Log(LogLevel::kInfo, "drain-done", {{"messages", std::to_string(messages)},
                                      {"imap_commands", std::to_string(e.imap ? e.imap->commands_sent() : 0)},
                                      {"imap_bodies", std::to_string(e.imap ? e.imap->bodies_fetched() : 0)},
                                      {"seconds", SecondsSince(start)}});
  if (dry_run) return 0;
  e.send_loop->Stop();  // what is left is sent here, so that the run ends when it is done
  // Ride out a brief SMTP hiccup within the run; what is still due stays in the outbox.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!g_stop) {
    auto sent = e.outbox->SendDue(&g_stop, 5, /*give_up=*/false);
    if (!sent.ok()) return kExitTempFail;
    auto left = e.send_store->DueReplies(e.clock.Now() + 3600, 1);
    if (!left.ok()) return kExitTempFail;
    if (left->empty()) {
      Log(LogLevel::kInfo, "send-done", {{"seconds", SecondsSince(start)}});
      return 0;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Log(LogLevel::kWarning, "replies-left-in-outbox", {});
      return kExitTempFail;
    }
    SleepFor(1);
  }
  return 0;
}

int WatchdogPeriod() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::max<int>(1, usec / 2'000'000);
  return 0;
}

// One iteration: drain, then wait for mail. Sending runs beside it (StartSending):
// replies go out even while the mailbox is unreachable.
Status Iterate(Engine& e, int wait_s) {
  auto drained = e.processor->Drain(&g_stop);
  if (!drained.ok()) return drained.status();
  sd_notify(0, "WATCHDOG=1");
  return e.mailbox->WaitForMail(wait_s, &g_stop).status();
}

// A mailbox outage is told once per reason, not at every retry: the first failure, any
// new reason, and a summary (mailbox-recovered failures=N) when it is over.
void LogFailure(const Status& s, int failures, int delay, std::string& last_reason) {
  if (failures > 1 && s.message() == last_reason) return;
  last_reason = s.message();
  Log(LogLevel::kWarning, "mailbox-error", {{"error", s.message()},
                                            {"failures", std::to_string(failures)},
                                            {"retry_in", std::to_string(delay) + "s"}});
}

int Serve(std::unique_ptr<Engine> e, const RunOptions& options) {
  int failures = 0;
  std::string last_reason;
  bool ready = false;
  if (!options.dry_run) StartSending(*e, 3600, /*give_up=*/true);
  while (!g_stop) {
    if (g_reload) {
      g_reload = false;
      sd_notify(0, "RELOADING=1");
      auto fresh = Build(options.config_path, options.dry_run);
      if (fresh.ok()) {
        e = std::move(*fresh);  // the old engine's threads stop (their work in hand ends)
        UseZoneForProcess(e->config.timezone);  // no other thread runs now
        if (!options.dry_run) StartSending(*e, 3600, /*give_up=*/true);
        Log(LogLevel::kNotice, "config-reloaded", {{"config", options.config_path}});
      } else {
        Log(LogLevel::kError, "config-reload-refused", {{"error", fresh.status().message()}});
      }
      sd_notify(0, "READY=1");
    }
    int watchdog = WatchdogPeriod();
    int wait_s = std::min(e->config.mailbox.poll_interval_s, 25 * 60);  // RFC 2177: < 29 min
    if (watchdog > 0) wait_s = std::min(wait_s, watchdog);
    Status s = Iterate(*e, std::max(wait_s, 1));
    if (s.ok()) {
      if (failures > 0) Log(LogLevel::kNotice, "mailbox-recovered", {{"failures", std::to_string(failures)}});
      failures = 0;
      if (!ready) {
        sd_notifyf(0, "READY=1\nSTATUS=watching %s", Watching(*e).c_str());
        ready = true;
      }
      continue;
    }
    int delay = RetryDelay(++failures);
    LogFailure(s, failures, delay, last_reason);
    sd_notifyf(0, "STATUS=mailbox unreachable (%d failures), retrying in %ds", failures, delay);
    sd_notify(0, "WATCHDOG=1");  // the loop is alive, only the server is not
    SleepFor(delay);
  }
  sd_notify(0, "STOPPING=1");
  Log(LogLevel::kNotice, "stopped", {});
  return 0;
}

}  // namespace

bool IsLoopbackUrl(const std::string& url) {
  auto host = url.find("://");
  if (host == std::string::npos) return false;
  std::string rest = url.substr(host + 3);
  return rest.rfind("127.", 0) == 0 || rest.rfind("localhost", 0) == 0 || rest.rfind("[::1]", 0) == 0;
}

int RunDaemon(const RunOptions& options) {
  InstallSignals();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto engine = Build(options.config_path, options.dry_run);
  if (!engine.ok()) {
    Log(LogLevel::kError, "startup-failed", {{"error", engine.status().message()}});
    curl_global_cleanup();
    return engine.status().kind() == ErrorKind::kFatal ? kExitConfig : 1;
  }
  UseZoneForProcess((*engine)->config.timezone);  // before any thread of ours starts
  int rc = options.once ? RunOnce(**engine, options.dry_run) : Serve(std::move(*engine), options);
  curl_global_cleanup();
  return rc;
}

}  // namespace mailreqd
