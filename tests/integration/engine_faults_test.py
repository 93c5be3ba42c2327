"""Surviving faults of the mail servers, against real Dovecot and real SMTP servers:
 (a) Dovecot stopped (its sessions dropped) and started again 2 s later in the middle of a
     drain (private Dovecot, daemon with poll_interval 1s): nothing lost, everything
     processed and replied, once each;
 (b) SMTP refusing with 421 and 451 for a while, then accepting: the daemon delivers every
     reply exactly once; `run --once` rides out a brief hiccup, exits 75 with the replies
     left in the outbox when the refusal outlasts its window, and a later run sends them;
 (c) a 550 for one recipient: that reply is 'failed' with the server's text and an error
     line is logged (without the address), the others go out;
 (d) SMTP down for a while (stopped, started again on the same port; 10 s, long: 60 s):
     nothing lost;
 (e) SIGTERM while the SMTP server sits on a DATA: exit 0 within 20 s, the replies kept.
The SMTP parts each have a private SMTP server and run in parallel (the daemon's first
retry comes 30-60 s after a failure, so they take about a minute of wall time)."""
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import traceback

from engine_common import (FOLDERS, LONG, Customers, Daemon, append_many, check, db, finish,
                           folder_counts, reply_copies, wait_for)
from harness import Servers, _script, mailreqd_binary, run_mailreqd, wait_until

SMTP_DOWN_S = 60 if LONG else 10
DRAIN_N = 1000 if LONG else 300


class Setup:
    """A mailbox user, customers, a private SMTP server and a config of its own."""

    def __init__(self, servers, binary, tmp, name, count, smtp=None, **config):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.servers = servers
        self.binary = binary
        self.smtp = smtp or servers.new_smtp_server()
        self.user, pw = servers.new_mailbox_user(folders=FOLDERS)
        self.config = servers.write_config(os.path.join(self.dir, "mailreqd.yaml"), user=self.user,
                                           password_file=pw, smtp=self.smtp, **config)
        self.db = os.path.join(self.dir, "mailreqd.db")
        self.log = os.path.join(self.dir, "daemon.log")
        self.count = count
        self.customers = Customers(binary, self.config, self.dir, self.user.replace("-", ""), count)

    def append(self, ns):
        append_many(self.servers, self.user, [self.customers.unsubscribe(n) for n in ns])

    def run_once(self, timeout=100):
        rc, out, err = run_mailreqd(self.binary, "run", "--config", self.config, "--once", timeout=timeout)
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(err)
        return rc, err

    def daemon(self):
        return Daemon(self.binary, self.config, self.log)

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def outbox(self):
        conn = db(self.db)
        rows = [dict(r) for r in conn.execute("SELECT recipient, status, attempts, last_error, message_id FROM outbox")]
        conn.close()
        return rows

    def in_hand(self):
        conn = db(self.db)
        try:
            return conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
        finally:
            conn.close()

    def request_count(self):
        conn = db(self.db)
        n = conn.execute("SELECT count(*) FROM requests").fetchone()[0]
        conn.close()
        return n

    def check_all_once(self, label):
        """Every request recorded once, every reply received exactly once, mailbox drained."""
        check(self.request_count() == self.count, f"{label}: {self.count} request rows")
        outbox = self.outbox()
        statuses = sorted({r["status"] for r in outbox})
        check(len(outbox) == self.count and statuses == ["sent"], f"{label}: outbox all sent {statuses}")
        copies = reply_copies(self.smtp)
        check(set(copies) == {r["message_id"] for r in outbox} and set(copies.values()) == {1},
              f"{label}: each of {len(outbox)} replies received exactly once "
              f"({len(copies)} distinct, max copies {max(copies.values(), default=0)})")
        counts = folder_counts(self.servers, self.user)
        check(counts["INBOX"] == 0 and counts["Processed"] == self.count, f"{label}: mailbox drained {counts}")
        text = self.log_text()
        leaked = [n for n in range(self.count) if self.customers.addr(n) in text]
        check(not leaked, f"{label}: no customer address in the log")


def replies_arrived(setup, count):
    return lambda: len(setup.smtp.index()) >= count


def outage(servers, seconds=2.0):
    """Dovecot down for SECONDS, open sessions dropped. (harness.restart_dovecot() alone
    leaves the running imap processes, and so every open session, alive: they outlive their
    master.) The sessions are the children of this private Dovecot's master, by pid."""
    conf = open(os.path.join(servers.dir, "dovecot.conf"), encoding="utf-8").read()
    base_dir = re.search(r"^base_dir = (.*)$", conf, re.M).group(1).strip()
    master = int(open(os.path.join(base_dir, "master.pid"), encoding="utf-8").read().strip())

    def drop_sessions():
        ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
        pids = [int(p) for p in ps.stdout.split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    drop_sessions()  # at once: the daemon's command in flight fails now
    late = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
    _script("dovecot.sh", "stop", servers.dir)
    for pid in (int(p) for p in late.stdout.split()):  # a session opened meanwhile
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(seconds)
    _script("dovecot.sh", "restart", servers.dir)  # same config, same ports


# --- (a) ----------------------------------------------------------------------------------
def test_dovecot_restart(binary, tmp):
    with Servers.start() as private:  # restarting Dovecot must not disturb parallel tests
        # The default ceiling of 500 replies an hour would hold back the long version's.
        s = Setup(private, binary, tmp, "a", DRAIN_N, mailbox={"poll_interval": "1s"},
                  smtp_options={"max_per_hour": 100000})
        s.append(range(DRAIN_N))
        d = s.daemon()
        try:
            start = time.monotonic()
            # Mid-drain: the chunk's attempts are counted before it is fetched and cleared
            # after its MOVE, so rows in `attempts` mean the daemon has mail in hand.
            wait_until(lambda: s.in_hand() > 0, 60, interval=0.01, what="the drain to begin")
            in_hand = s.in_hand()
            outage(private)
            print(f"(a) Dovecot restarted {time.monotonic() - start:.1f} s after start, with "
                  f"{in_hand} mails in hand; {s.request_count()}/{DRAIN_N} recorded by then", flush=True)
            check(in_hand > 0, f"(a) the restart came in the middle of the drain ({in_hand} in hand)")
            try:
                wait_for(lambda: replies_arrived(s, DRAIN_N)() and private.count(s.user, "INBOX") == 0, 90,
                         "(a) all replies after the restart")
            except TimeoutError:
                tail = [l for l in s.log_text().splitlines() if " message " not in l][-15:]
                print(f"(a) stuck: {len(s.smtp.index())}/{DRAIN_N} replies, "
                      f"{private.count(s.user, 'INBOX')} in INBOX; log:\n    " + "\n    ".join(tail), flush=True)
                raise
            print(f"(a) everything processed {time.monotonic() - start:.1f} s after start", flush=True)
            wait_for(lambda: "mailbox-recovered" in s.log_text(), 30, "(a) mailbox-recovered")
            time.sleep(1.5)  # a duplicate, if any, would come now
        finally:
            rc = d.stop()
        check(rc == 0, f"(a) daemon stops with 0 on SIGTERM (got {rc})")
        s.check_all_once("(a)")
        text = s.log_text()
        events = [line for line in text.splitlines() if " message " not in line and "reply-" not in line]
        print("(a) daemon log without per-message lines:\n    " + "\n    ".join(events[-12:]), flush=True)
        check("mailbox-error" in text and "mailbox-recovered" in text,
              "(a) the outage is logged (mailbox-error) and so is the recovery (mailbox-recovered)")
        check(s.in_hand() == 0 and "quarantined" not in text, "(a) no attempts left over, nothing quarantined")


# --- (b) ----------------------------------------------------------------------------------
def test_smtp_refusals_daemon(s):
    n = s.count
    addrs = [s.customers.addr(i) for i in range(n)]
    # The first two MAIL FROMs get 421 (the server then closes the connection), every
    # other attempt 451 at RCPT: each reply is refused at least once.
    s.smtp.control({"fail_next": 2, "code": "421", "stage": "mail",
                    "reject_rcpt": addrs, "reject_rcpt_code": "451 4.2.1 Mailbox busy, try later"})
    s.append(range(n))
    d = s.daemon()
    try:
        wait_for(lambda: s.log_text().count("reply-deferred") >= n, 60, "(b) every reply deferred once")
        refused_for = time.monotonic()
        check(len(s.smtp.index()) == 0, "(b) nothing delivered while the server refuses")
        time.sleep(3)  # "for a while"
        s.smtp.control(None)
        wait_for(replies_arrived(s, n), 100, "(b) the replies after the server recovered")
        print(f"(b) daemon: all {n} replies delivered {time.monotonic() - refused_for:.1f} s after the refusals",
              flush=True)
        time.sleep(1.5)
    finally:
        rc = d.stop()
    check(rc == 0, f"(b) daemon stops with 0 (got {rc})")
    text = s.log_text()
    check("421" in text and "451" in text, "(b) the log names the 421 and the 451")
    check(all(r["attempts"] >= 2 for r in s.outbox()), "(b) every reply needed more than one attempt")
    s.check_all_once("(b) daemon")


def test_smtp_refusals_once(s):
    n = s.count
    # A brief hiccup is ridden out within one --once run.
    s.smtp.control({"fail_next": 2, "code": "421", "stage": "mail"})
    s.append([0])
    rc, err = s.run_once()
    check(rc == 0 and len(s.smtp.index()) == 1, f"(b) --once rides out two 421s (rc {rc})")
    # A longer refusal outlasts the run's window: exit 75, the replies stay pending.
    s.smtp.control({"mail": "451 4.3.2 System not accepting network messages"})
    s.append(range(1, n))
    start = time.monotonic()
    rc, err = s.run_once()
    print(f"(b) --once against a refusing server took {time.monotonic() - start:.1f} s", flush=True)
    check(rc == 75, f"(b) --once exits 75 while replies are left (got {rc})")
    check("replies-left-in-outbox" in err, "(b) --once logs replies-left-in-outbox")
    pending = [r for r in s.outbox() if r["status"] == "pending"]
    check(len(pending) == n - 1 and all("451" in r["last_error"] for r in pending),
          f"(b) {n - 1} replies pending with the server's 451 ({len(pending)})")
    check(len(s.smtp.index()) == 1, "(b) nothing more delivered")
    check(s.servers.count(s.user, "INBOX") == 0, "(b) the requests were still processed and moved")
    s.smtp.control(None)
    rc, err = s.run_once()
    check(rc == 0, f"(b) the next --once exits 0 (got {rc})")
    s.check_all_once("(b) --once")


# --- (c) ----------------------------------------------------------------------------------
def test_smtp_550(s):
    n = s.count
    bad = s.customers.addr(0)
    # Real servers name the address in the refusal: it must reach the outbox, not the log.
    s.smtp.control({"reject_rcpt": [bad],
                    "reject_rcpt_code": f"550 5.1.1 <{bad}>: Recipient address rejected: User unknown"})
    s.append(range(n))
    rc, err = s.run_once()
    check(rc == 0, f"(c) --once exits 0: a refused reply is not left pending (got {rc})")
    rows = {r["recipient"]: r for r in s.outbox()}
    check(rows[bad]["status"] == "failed" and "550 5.1.1" in rows[bad]["last_error"]
          and "User unknown" in rows[bad]["last_error"],
          f"(c) the refused reply is failed with the server's text ({rows[bad]['status']}: "
          f"{rows[bad]['last_error'][:80]!r})")
    check(rows[bad]["attempts"] == 1, f"(c) a 550 is not retried (attempts {rows[bad]['attempts']})")
    others = [r for a, r in rows.items() if a != bad]
    check(len(others) == n - 1 and all(r["status"] == "sent" for r in others), "(c) the others were sent")
    got = {r.lower() for m in s.smtp.messages() for r in m.rcpts}
    check(bad.lower() not in got and len(got) == n - 1, f"(c) {n - 1} replies delivered, none to {bad[:3]}***")
    failed = [line for line in err.splitlines() if "reply-failed" in line]
    check(len(failed) == 1 and "550" in failed[0], f"(c) one reply-failed line with the code: {failed}")
    check(bad not in err, "(c) the refused address is not in the log")
    check(s.servers.count(s.user, "Processed") == n, "(c) every request processed")


# --- (d) ----------------------------------------------------------------------------------
def test_smtp_down(s):
    n = s.count
    _script("smtp.sh", "stop", s.smtp.directory)
    d = s.daemon()
    try:
        start = time.monotonic()
        s.append(range(n // 2))
        wait_for(lambda: s.log_text().count("reply-deferred") >= n // 2, 60, "(d) replies deferred")
        s.append(range(n // 2, n))  # more mail while SMTP is down
        wait_for(lambda: s.request_count() == n, 30, "(d) all requests recorded while SMTP is down")
        time.sleep(max(0.0, SMTP_DOWN_S - (time.monotonic() - start)))
        _script("smtp.sh", "restart", s.smtp.directory)  # same ports
        print(f"(d) SMTP back after {time.monotonic() - start:.1f} s", flush=True)
        wait_for(replies_arrived(s, n), 200 if LONG else 100, "(d) the replies after SMTP came back")
        print(f"(d) all {n} replies delivered {time.monotonic() - start:.1f} s after the outage began",
              flush=True)
        time.sleep(1.5)
    finally:
        rc = d.stop()
    check(rc == 0, f"(d) daemon stops with 0 (got {rc})")
    check("reply-failed" not in s.log_text(), "(d) no reply given up")
    s.check_all_once("(d)")


def in_thread(name, fn, *args):
    def body():
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported as a failed check
            traceback.print_exc()
            check(False, f"{name} raised")
    t = threading.Thread(target=body, name=name)
    t.start()
    return t


# --- (e) ----------------------------------------------------------------------------------
def test_sigterm_wedged_smtp(s):
    """SIGTERM while the SMTP server sits on a DATA for a minute: the daemon gives the
    transfer a short grace and exits well inside systemd's 90 s stop timeout; the reply
    stays in the outbox and goes out on the next run."""
    s.smtp.control({"delay": {"data": 60}})
    s.append(range(s.count))
    d = s.daemon()
    try:
        wait_for(lambda: s.request_count() == s.count, 30, "(e) requests recorded")
        time.sleep(1.0)  # the replies are now in flight, the server silent
    finally:
        start = time.monotonic()
        rc = d.stop(timeout=60)
        took = time.monotonic() - start
    print(f"(e) SIGTERM with a wedged SMTP server: exit {rc} after {took:.1f} s; log ends:\n    "
          + "\n    ".join(s.log_text().splitlines()[-6:]), flush=True)
    check(rc == 0 and took < 20, f"(e) exits 0 within 20 s (got {rc} after {took:.1f} s)")
    pending = [r for r in s.outbox() if r["status"] == "pending"]
    check(len(pending) == s.count, f"(e) the replies stay pending ({len(pending)}/{s.count})")
    s.smtp.control(None)
    rc, _ = s.run_once()
    check(rc == 0 and len(s.smtp.index()) >= s.count, f"(e) the next run sends them (rc {rc})")


def main():
    binary = mailreqd_binary()
    start = time.monotonic()
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        poll = {"mailbox": {"poll_interval": "1s"}}
        setups = {
            "b-daemon": Setup(servers, binary, tmp, "b-daemon", 6, **poll),
            "b-once": Setup(servers, binary, tmp, "b-once", 4, **poll),
            "c": Setup(servers, binary, tmp, "c", 4, **poll),
            "d": Setup(servers, binary, tmp, "d", 6, **poll),
            "e": Setup(servers, binary, tmp, "e", 2, **poll),
        }
        threads = [
            in_thread("(b) daemon", test_smtp_refusals_daemon, setups["b-daemon"]),
            in_thread("(b) --once", test_smtp_refusals_once, setups["b-once"]),
            in_thread("(c)", test_smtp_550, setups["c"]),
            in_thread("(d)", test_smtp_down, setups["d"]),
            in_thread("(e)", test_sigterm_wedged_smtp, setups["e"]),
        ]
        try:
            test_dovecot_restart(binary, tmp)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            check(False, "(a) raised")
        for t in threads:
            t.join()
    print(f"total {time.monotonic() - start:.1f} s")
    finish()


if __name__ == "__main__":
    main()
