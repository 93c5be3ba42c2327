"""Shared helpers of the engine_*_test.py integration tests (the mailbox engine: IDLE,
exactly once, faults). Standard library + harness.py only.

MAILREQD_LONG_TESTS=1 selects the long versions of the tests (more messages, more kills,
longer outages); see README "The longer suite".
"""
import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import time

from harness import run_mailreqd, wait_until

HKT = datetime.timezone(datetime.timedelta(hours=8))
# 28 Feb 2026 00:30 in Hong Kong: a renewal day of a 31 Jan anchor, so a monthly
# subscription cancelled then ends on 30 Mar 2026 (see unsubscribe_slice_test.py).
ARRIVED = datetime.datetime(2026, 2, 28, 0, 30, tzinfo=HKT)
END_DATE = "2026-03-30"
FOLDERS = ("Processed", "Needs-Review", "Quarantine")

LONG = os.environ.get("MAILREQD_LONG_TESTS") == "1"

UNSUBSCRIBE = """From: Customer {n} <{addr}>
To: Customer Service <support@shop.example>
Subject: unsubscribe {n}
Date: Sat, 28 Feb 2026 00:30:00 +0800
Message-ID: <{mid}>
Content-Type: text/plain; charset=utf-8

Please cancel.
Username: {user}
Service: streaming
"""

QUESTION = """From: Someone {n} <{addr}>
To: support@shop.example
Subject: Do your films have subtitles? ({n})
Message-ID: <{mid}>
Content-Type: text/plain; charset=us-ascii

Just wondering.
"""


def crlf(s: str) -> bytes:
    return s.replace("\n", "\r\n").encode()


FAILURES = []


def check(cond, what, fatal=False):
    """Prints ok/FAIL; failures are collected and make finish() exit 1."""
    if cond:
        print(f"ok: {what}", flush=True)
    else:
        print(f"FAIL: {what}", file=sys.stderr, flush=True)
        FAILURES.append(what)
        if fatal:
            finish()


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed:", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Customers:
    """COUNT customers, each with one monthly streaming subscription, imported into the
    database of CONFIG. Customer n: username "{prefix}c{n}", address addr(n)."""

    def __init__(self, binary, config, tmp, prefix, count):
        self.prefix = prefix
        self.count = count
        cust = ["username,email,name,postal_address,telephone,fax,marketing_opt_in"]
        subs = ["username,service,anchor"]
        for n in range(count):
            cust.append(f"{self.username(n)},{self.addr(n)},Customer {n},,,,false")
            subs.append(f"{self.username(n)},streaming,2026-01-31")
        for command, lines in (("import-customers", cust), ("import-subscriptions", subs)):
            path = write(os.path.join(tmp, f"{command}.csv"), "\n".join(lines) + "\n")
            rc, out, err = run_mailreqd(binary, command, path, "--config", config)
            check(rc == 0, f"{command}: {count} rows ({(out + err).strip()[:200]})", fatal=True)

    def username(self, n):
        return f"{self.prefix}c{n}"

    def addr(self, n):
        return f"c{n}-{self.prefix}@example.com"

    def mid(self, n, tag="u"):
        return f"{tag}{n}-{self.prefix}@mail.example.com"

    def unsubscribe(self, n, tag="u"):
        return crlf(UNSUBSCRIBE.format(n=n, addr=self.addr(n), user=self.username(n), mid=self.mid(n, tag)))


def append_many(servers, user, raws, folder="INBOX", date=ARRIVED):
    """APPENDs every raw message over one IMAP connection."""
    import imaplib
    internal = imaplib.Time2Internaldate(date)
    with servers.imap(user) as c:
        for raw in raws:
            typ, data = c.append(folder, None, internal, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND: {typ} {data}")


def folder_counts(servers, user, folders=("INBOX",) + FOLDERS):
    have = set(servers.folders(user))
    return {f: servers.count(user, f) if f in have else 0 for f in folders}


def db(path):
    # Read only by use (a WAL database needs its -shm writable even for readers).
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def reply_copies(smtp, rcpt_suffix=None):
    """{Message-ID (without <>): copies received} over the SMTP server's spool."""
    copies = {}
    for m in smtp.messages():
        if rcpt_suffix and not any(r.endswith(rcpt_suffix) for r in m.rcpts):
            continue
        mid = str(m.message["Message-ID"]).strip().strip("<>")
        copies[mid] = copies.get(mid, 0) + 1
    return copies


class Daemon:
    """`mailreqd run` (no --once) in the background, stderr appended to LOG_PATH."""

    def __init__(self, binary, config, log_path, env=None, args=()):
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([binary, "run", "--config", config, *args],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=log, env=full_env, start_new_session=True)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL, the way a crash or the OOM killer ends it."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait()

    def stop(self, timeout=20):
        """SIGTERM; returns the exit status, or None when it had to be killed."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


def spool_count(smtp):
    return len(smtp.index())


def wait_for(predicate, timeout, what):
    return wait_until(predicate, timeout, interval=0.1, what=what)


def elapsed(start):
    return f"{time.monotonic() - start:.1f} s"
