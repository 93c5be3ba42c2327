"""Operating mailreqd against real Dovecot and SMTP, the way systemd runs it:
check-config's exit status, secret files (permissions, systemd credentials), --dry-run
changing nothing, the sd_notify protocol (READY=1, STATUS=, WATCHDOG=1) on a fake
NOTIFY_SOCKET, SIGHUP with a good and a broken config, SIGTERM in the middle of a
200-message drain (every message in INBOX or moved *and* recorded, never recorded but
lost), the journald and JSON log formats, and that logs never show a customer address."""
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from harness import Servers, mailreqd_binary, run_mailreqd, wait_until

HKT = datetime.timezone(datetime.timedelta(hours=8))
ALL_STDERR = []  # every log the daemon wrote in this test, checked for addresses at the end
ADDRESSES = []   # every customer address used

CUSTOMERS = "username,email,name,postal_address,telephone,fax,marketing_opt_in\n" \
            "{user},{addr},Alice Chan,\"Flat 3A, 12 Harbour Road\",+852 2345 6789,,true\n"
SUBSCRIPTIONS = "username,service,anchor\n{user},streaming,2026-01-31\n"

UNSUBSCRIBE = """From: Alice Chan <{addr}>
To: Customer Service <support@shop.example>
Subject: unsubscribe
Date: Sat, 28 Feb 2026 00:30:00 +0800
Message-ID: <{mid}>
Content-Type: text/plain; charset=utf-8

Please cancel.
Username: {user}
Service: streaming
"""

QUESTION = """From: Someone <{addr}>
To: support@shop.example
Subject: Question {n}
Message-ID: <{mid}>
Content-Type: text/plain; charset=us-ascii

Do your films have subtitles? ({n})
"""


def crlf(s):
    return s.replace("\n", "\r\n").encode()


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def write(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def run(binary, *args, **kw):
    rc, out, err = run_mailreqd(binary, *args, **kw)
    ALL_STDERR.append(err)
    return rc, out, err


def db_dump(path):
    with contextlib.closing(sqlite3.connect(path)) as db:
        return "\n".join(db.iterdump())


def message_ids(raws):
    ids = set()
    for raw in raws:
        m = re.search(rb"^Message-ID: <([^>]+)>", raw, re.M | re.I)
        if m:
            ids.add(m.group(1).decode())
    return ids


class Customer:
    """A mailbox user of its own, one customer with a streaming subscription, a config."""

    def __init__(self, servers, binary, tmp, name):
        self.servers = servers
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.user, self.password_file = servers.new_mailbox_user()
        self.addr = f"alice-{self.user}@example.com"
        ADDRESSES.append(self.addr)
        self.config = servers.write_config(os.path.join(self.dir, "mailreqd.yaml"), user=self.user,
                                           password_file=self.password_file)
        self.db = os.path.join(self.dir, "mailreqd.db")
        for command, text in (("import-customers", CUSTOMERS), ("import-subscriptions", SUBSCRIPTIONS)):
            csv = write(os.path.join(self.dir, command + ".csv"), text.format(user=self.user, addr=self.addr))
            rc, out, err = run(binary, command, csv, "--config", self.config)
            check(rc == 0, f"{command} for {self.user}: {out.strip()}{err.strip()}")

    def rewrite_config(self, **overrides):
        return self.servers.write_config(self.config, user=self.user, password_file=self.password_file,
                                         **overrides)

    def unsubscribe(self, tag):
        mid = f"unsub-{tag}-{self.user}@mail.example.com"
        self.servers.append(self.user, "INBOX", crlf(UNSUBSCRIBE.format(addr=self.addr, user=self.user, mid=mid)),
                            date=datetime.datetime(2026, 2, 28, 0, 30, tzinfo=HKT))
        return mid

    def questions(self, count):
        """Appends COUNT unknown questions over one IMAP connection; returns their ids."""
        mids = []
        with self.servers.imap(self.user) as c:
            for n in range(count):
                addr = f"someone-{n}-{self.user}@example.net"
                ADDRESSES.append(addr)
                mid = f"q{n}-{self.user}@mail.example.net"
                typ, data = c.append("INBOX", None, None, crlf(QUESTION.format(addr=addr, n=n, mid=mid)))
                if typ != "OK":
                    check(False, f"APPEND question {n}: {data}")
                mids.append(mid)
        return mids

    def count(self, folder):
        return self.servers.count(self.user, folder)


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.extend(data.decode("utf-8", "replace").split("\n"))

    def has(self, prefix, after=0):
        return any(m.startswith(prefix) for m in self.messages[after:])

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


class Daemon:
    """`mailreqd run` in the background, its stderr in a file."""

    def __init__(self, binary, config, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        self.proc = subprocess.Popen([binary, "run", "--config", config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=full_env,
                                     start_new_session=True)

    def stderr(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=20, after=0):
        return wait_until(lambda: text in self.stderr()[after:], timeout, what=f"log line {text!r}")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def catches(self, sig):
        """True once the daemon has installed its handler for SIG (/proc SigCgt)."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                mask = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return False
        return bool(mask & (1 << (sig - 1)))

    def stop(self, timeout=15):
        """SIGTERM; returns (exit status or None if it had to be killed, seconds taken)."""
        start = time.monotonic()
        if self.alive():
            self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            rc = None
        self.log.close()
        ALL_STDERR.append(self.stderr())
        return rc, time.monotonic() - start


def test_check_config(binary, servers, tmp):
    good = servers.write_config(os.path.join(tmp, "good.yaml"))
    rc, out, err = run(binary, "check-config", "--config", good)
    check(rc == 0 and f"{good}: ok" in out, f"check-config accepts a good config (rc {rc})")
    bad = write(os.path.join(tmp, "bad.yaml"), open(good, encoding="utf-8").read()
                + "pol_interval: 5m\nlog_format: xml\n")
    rc, out, err = run(binary, "check-config", "--config", bad)
    check(rc == 78, f"check-config exits 78 on a bad config (rc {rc})")
    lines = err.strip().splitlines()
    check(len(lines) >= 2 and re.match(re.escape(bad) + r":\d+:1: pol_interval: unknown key$", lines[0]) is not None
          and any(re.match(re.escape(bad) + r":\d+:13: log_format: must be auto, text or json", l) for l in lines),
          f"check-config names file:line:column and key of every error: {lines}")
    rc, out, err = run(binary, "check-config", "--config", os.path.join(tmp, "missing.yaml"))
    check(rc != 0 and "cannot read the config file" in err, "check-config exits non-zero on a missing file")


def test_secrets(binary, servers, tmp):
    c = Customer(servers, binary, tmp, "secrets")
    password = servers.password(c.user)
    leaky = write(os.path.join(c.dir, "leaky-password"), password + "\n", 0o640)
    c.rewrite_config(mailbox={"password_file": leaky})
    rc, out, err = run(binary, "run", "--config", c.config, "--once")
    check(rc == 78, f"a group-readable password file is refused with exit 78 (rc {rc})")
    check("readable by group or others; chmod 600 it" in err and leaky in err,
          "the refusal names the file and the fix")
    check(password not in err and password not in out, "the password appears in no output")

    # systemd's LoadCredential=imap-password:... puts the file in $CREDENTIALS_DIRECTORY.
    creds = os.path.join(c.dir, "credentials")
    os.mkdir(creds, 0o700)
    write(os.path.join(creds, "imap-password"), password + "\n", 0o400)
    c.rewrite_config(mailbox={"password_file": "imap-password"})
    c.unsubscribe("cred")
    rc, out, err = run(binary, "run", "--config", c.config, "--once", env={"CREDENTIALS_DIRECTORY": creds})
    check(rc == 0 and c.count("Processed") == 1,
          f"a bare password_file name is read from $CREDENTIALS_DIRECTORY (rc {rc})")
    check(password not in err, "the password appears in no log")


def test_dry_run(binary, servers, tmp):
    c = Customer(servers, binary, tmp, "dry")
    c.unsubscribe("dry")
    c.questions(2)
    before_db = db_dump(c.db)
    before_inbox = sorted(servers.list_folder(c.user, "INBOX"))
    before_flags = servers.folder_flags(c.user, "INBOX")
    rc, out, err = run(binary, "run", "--config", c.config, "--once", "--dry-run")
    check(rc == 0, f"run --once --dry-run exits 0 (rc {rc})")
    check(db_dump(c.db) == before_db, "the dry run changed nothing in the database")
    check(sorted(servers.list_folder(c.user, "INBOX")) == before_inbox
          and servers.folder_flags(c.user, "INBOX") == before_flags,
          "the dry run left INBOX as it was (messages and flags)")
    check(c.count("Processed") == 0 and c.count("Needs-Review") == 0, "the dry run moved nothing")
    check(not servers.smtp_messages(rcpt=c.addr), "the dry run sent nothing")
    changes = err.count("dry-run-change")
    check(changes == 3, f"it logged what it would do, once per message ({changes} dry-run-change lines)")
    check("would_set" in err and "would_send" in err and "dry-run-move" in err,
          "the log says what would change, be sent and be moved")


def test_review_handled(binary, servers, tmp):
    """The operator's review queue: `requests --due` lists what waits for a human, with the
    ids that `handled` takes; a handled request leaves the list and the audit says who."""
    c = Customer(servers, binary, tmp, "review")
    c.questions(2)
    rc, out, err = run(binary, "run", "--config", c.config, "--once")
    check(rc == 0 and c.count("Needs-Review") == 2, f"two questions wait for a human (rc {rc})")
    rc, out, err = run(binary, "requests", "--config", c.config, "--due")
    ids = re.findall(r"^#(\d+) ", out, re.M)
    check(rc == 0 and len(ids) == 2, f"requests --due lists both with their ids: {out!r}")
    rc, out, err = run(binary, "handled", f"#{ids[0]}", "--config", c.config)
    check(rc == 0 and f"request #{ids[0]} handled" in out, f"handled #{ids[0]}: {out}{err}")
    rc, out, err = run(binary, "requests", "--config", c.config, "--due")
    check(re.findall(r"^#(\d+) ", out, re.M) == ids[1:], f"only the other one is left: {out!r}")
    rc, out, err = run(binary, "handled", ids[0], "--config", c.config)
    check(rc == 1 and "not waiting for a human" in err, f"handling it twice is refused: {err}")
    rc, out, err = run(binary, "handled", "x1", "--config", c.config)
    check(rc == 64, f"an id that is not a number is a usage error (rc {rc})")
    with contextlib.closing(sqlite3.connect(c.db)) as db:
        row = db.execute("SELECT actor, old_value, new_value FROM audit WHERE request_id = ?",
                         (int(ids[0]),)).fetchone()
    check(row is not None and row[0].startswith("operator") and row[1:] == ("review", "handled"),
          f"the audit records the operator's change: {row}")


def test_log_formats(binary, servers, tmp):
    c = Customer(servers, binary, tmp, "logs")
    c.unsubscribe("journal")
    rc, out, err = run(binary, "run", "--config", c.config, "--once", env={"JOURNAL_STREAM": "8:12345"})
    lines = [l for l in err.splitlines() if l]
    check(rc == 0 and lines and all(re.match(r"<[0-7]>[a-z]", l) for l in lines),
          f"under journald every line starts with a priority and has no timestamp: {lines[:2]}")
    c.rewrite_config(log_format="json")
    c.questions(1)
    rc, out, err = run(binary, "run", "--config", c.config, "--once")
    lines = [l for l in err.splitlines() if l]
    objects = []
    for l in lines:
        with contextlib.suppress(ValueError):
            objects.append(json.loads(l))
    check(rc == 0 and objects and len(objects) == len(lines),
          f"log_format: json writes one JSON object per line ({len(objects)}/{len(lines)})")
    check(any(o.get("event") == "message" and "level" in o and "ts" in o for o in objects),
          "JSON lines carry ts, level and event")


def test_notify_and_signals(binary, servers, tmp):
    c = Customer(servers, binary, tmp, "notify")
    notify = NotifySocket(os.path.join(c.dir, "notify.sock"))
    # No WATCHDOG_PID: sd_watchdog_enabled then accepts any pid (ours would not match).
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": None}
    d = Daemon(binary, c.config, os.path.join(c.dir, "daemon.log"), env)
    try:
        wait_until(lambda: notify.has("READY=1"), 20, what="READY=1")
        check(True, "READY=1 after the first drain")
        check(notify.has("STATUS="), f"a STATUS= line: {[m for m in notify.messages if m.startswith('STATUS=')][:1]}")
        wait_until(lambda: sum(m == "WATCHDOG=1" for m in notify.messages) >= 2, 10, what="WATCHDOG=1 twice")
        check(True, "WATCHDOG=1 keeps coming (every wait is capped at half of WATCHDOG_USEC)")

        c.unsubscribe("live")
        servers.smtp.wait_for_messages(1, rcpt=c.addr, timeout=20)
        check(c.count("Processed") == 1, "the running daemon answers new mail")

        mark = len(notify.messages)
        c.rewrite_config(mailbox={"poll_interval": "30s"})
        d.signal(signal.SIGHUP)
        d.wait_log("config-reloaded")
        check(d.alive(), "SIGHUP with a good config: config-reloaded, still running")
        check(notify.has("RELOADING=1", mark), "RELOADING=1 sent around the reload")

        log_len = len(d.stderr())
        write(c.config, open(c.config, encoding="utf-8").read() + "colour: blue\n")
        d.signal(signal.SIGHUP)
        d.wait_log("config-reload-refused", after=log_len)
        refused = d.stderr()[log_len:]
        check(d.alive() and "colour: unknown key" in refused,
              "SIGHUP with a broken config: config-reload-refused naming the error, still running")
        c.unsubscribe("after-refused")
        servers.smtp.wait_for_messages(2, rcpt=c.addr, timeout=20)
        wait_until(lambda: c.count("Processed") == 2, 10, what="the mail moved")
        check(True, "after a refused reload the daemon still answers new mail")
    finally:
        rc, took = d.stop()
        notify.close()
    check(rc == 0, f"SIGTERM: exit 0 (got {rc}, {took:.1f} s)")
    check(any(m == "STOPPING=1" for m in notify.messages), "STOPPING=1 on the way out")


def check_nothing_lost(servers, c, mids, label):
    """Every message is still in INBOX, or moved *and* recorded, in the folder recorded."""
    with contextlib.closing(sqlite3.connect(c.db)) as db:
        recorded = {row[0]: row[1] for row in db.execute("SELECT message_id, folder FROM requests")}
    inbox = message_ids(servers.list_folder(c.user, "INBOX"))
    moved = {f: message_ids(servers.list_folder(c.user, f)) for f in ("Processed", "Needs-Review")}
    everywhere = inbox | moved["Processed"] | moved["Needs-Review"]
    check(everywhere == mids, f"{label}: no message lost ({len(everywhere)} of {len(mids)} in some folder)")
    # requests.folder holds the folder's role ("processed", "review"), or its name.
    role = {"Processed": "processed", "Needs-Review": "review"}
    wrong = [(m, f, recorded.get(m)) for f in moved for m in moved[f] if recorded.get(m) not in (f, role[f])]
    check(not wrong, f"{label}: every moved message is recorded, in the folder it sits in {wrong[:3]}")
    print(f"   {label}: {len(inbox)} in INBOX, {len(moved['Processed'])} Processed, "
          f"{len(moved['Needs-Review'])} Needs-Review, {len(recorded)} recorded")
    return len(inbox)


def test_sigterm_mid_drain(binary, servers, tmp):
    c = Customer(servers, binary, tmp, "sigterm")
    mids = set(c.questions(195))
    for i in range(5):
        mids.add(c.unsubscribe(f"burst{i}"))
    check(c.count("INBOX") == 200, "200 messages waiting in INBOX")
    # A drain of 200 takes well under a second here, so SIGTERM comes at several moments
    # after the daemon can catch it: while logging in, fetching, deciding, committing.
    for delay in (0, 0.1, 0.2, 0.3, 0.5):
        d = Daemon(binary, c.config, os.path.join(c.dir, f"daemon-{delay}.log"))
        try:
            wait_until(lambda: d.catches(signal.SIGTERM) or not d.alive(), 10, what="signal handlers")
            time.sleep(delay)
            d.signal(signal.SIGTERM)
            sent = time.monotonic()
            rc = d.proc.wait(15)
            took = time.monotonic() - sent
        finally:
            d.stop()
        check(rc == 0 and took < 5, f"SIGTERM {delay} s after start: exit 0 within {took:.1f} s")
        if check_nothing_lost(servers, c, mids, f"after SIGTERM at {delay} s") == 0:
            break

    rc, out, err = run(binary, "run", "--config", c.config, "--once", timeout=120)
    with contextlib.closing(sqlite3.connect(c.db)) as db:
        count = db.execute("SELECT count(*) FROM requests").fetchone()[0]
    check(rc == 0 and c.count("INBOX") == 0 and count == 200,
          f"a last run finishes the rest, recording each message once ({count} requests)")
    check_nothing_lost(servers, c, mids, "at the end")
    check(len(servers.smtp_messages(rcpt=c.addr)) == 5, "each unsubscribe was answered once")


def test_no_addresses_in_logs():
    logs = "\n".join(ALL_STDERR)
    leaked = sorted({a for a in ADDRESSES if a.lower() in logs.lower()})
    check(not leaked, f"no customer address appears in any log ({len(ADDRESSES)} addresses, "
                      f"{len(logs.splitlines())} log lines checked){': ' + ', '.join(leaked[:3]) if leaked else ''}")
    check(re.search(r"a\*\*\*@example\.com", logs) is not None, "addresses are logged masked (a***@example.com)")


def main():
    binary = mailreqd_binary()
    with Servers.connect() as servers, tempfile.TemporaryDirectory(prefix="mailreqd-ops-") as tmp:
        test_check_config(binary, servers, tmp)
        test_secrets(binary, servers, tmp)
        test_dry_run(binary, servers, tmp)
        test_review_handled(binary, servers, tmp)
        test_log_formats(binary, servers, tmp)
        test_notify_and_signals(binary, servers, tmp)
        test_sigterm_mid_drain(binary, servers, tmp)
        test_no_addresses_in_logs()


if __name__ == "__main__":
    main()
