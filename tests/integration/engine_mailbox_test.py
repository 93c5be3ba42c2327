"""The IMAP side of the engine against real Dovecot:
 (a) another IMAP client marks messages \\Seen and moves one away while the daemon runs:
     the rest are processed, \\Seen changes nothing (and the daemon never sets it);
 (a2) the other client deletes the Processed folder while the daemon runs: it is created
     again, and no mail is quarantined for it;
 (b) a UIDVALIDITY change (the watched folder deleted and recreated with the same mails,
     while the daemon runs): nothing is reprocessed (no request rows, no replies), the
     mails are just moved again;
 (c) IDLE latency: from APPEND to the reply in the SMTP spool, <= 2 s per message over 10
     messages one at a time (long: 50) and 6 in a burst (mail arriving while the daemon
     is busy); prints p50/p99;
 (d) TLS: imaps:// with the right CA works; a wrong CA fails with a logged certificate
     error and a non-zero exit (--once), touching nothing;
 (e) a drain of three chunks, each next one prefetched: every mail recorded, moved and
     answered once, each body fetched once."""
import contextlib
import datetime
import imaplib
import os
import re
import subprocess
import tempfile
import threading
import time

from engine_common import (ARRIVED, FOLDERS, LONG, QUESTION, Customers, Daemon, append_many, check, crlf,
                           db, finish, reply_copies, wait_for)
from harness import Servers, _quote, mailreqd_binary, run_mailreqd, wait_until

LATENCY_N = 50 if LONG else 10
BURST_N = 6


class Setup:
    def __init__(self, servers, binary, tmp, name, count, folder="INBOX", smtp=None, **config):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.servers = servers
        self.binary = binary
        self.folder = folder
        self.smtp = smtp or servers.new_smtp_server()
        self.user, self.password_file = servers.new_mailbox_user(folders=FOLDERS)
        if folder != "INBOX":
            servers.create_folder(self.user, folder)
        self.config_kw = dict(user=self.user, password_file=self.password_file, smtp=self.smtp, **config)
        self.config = self.write_config()
        if folder != "INBOX":
            self.config = self.write_config(mailbox={"url": servers.imap_url(folder, config.get("tls", False))})
        self.db = os.path.join(self.dir, "mailreqd.db")
        self.log = os.path.join(self.dir, "daemon.log")
        self.count = count
        self.customers = Customers(binary, self.config, self.dir, self.user.replace("-", ""), count)

    def write_config(self, **overrides):
        kw = dict(self.config_kw)
        for k, v in overrides.items():
            kw[k] = {**kw[k], **v} if isinstance(v, dict) and isinstance(kw.get(k), dict) else v
        return self.servers.write_config(os.path.join(self.dir, "mailreqd.yaml"), **kw)

    def daemon(self):
        return Daemon(self.binary, self.config, self.log)

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def rows(self, sql):
        conn = db(self.db)
        rows = conn.execute(sql).fetchall()
        conn.close()
        return rows


def count(servers, user, folder):
    return servers.count(user, folder) if folder in servers.folders(user) else 0


# --- (a) ----------------------------------------------------------------------------------
def test_other_client(servers, binary, tmp):
    n = 40
    s = Setup(servers, binary, tmp, "a", n + 6, mailbox={"poll_interval": "1s"})
    servers.create_folder(s.user, "Elsewhere")
    s_raws = [s.customers.unsubscribe(i) for i in range(n)]
    append_many(servers, s.user, s_raws)
    d = s.daemon()
    moved_mid = None
    try:
        # The other client, at once: \Seen on every other message, the last one moved away.
        with servers.imap(s.user) as c:
            c.select("INBOX")
            uids = c.uid("SEARCH", None, "ALL")[1][0].split()
            for uid in uids[::2]:
                c.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen)")
            typ, data = c.uid("FETCH", uids[-1], "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            moved_mid = re.search(rb"<([^>]+)>", data[0][1]).group(1).decode()
            typ, data = c.uid("MOVE", uids[-1], "Elsewhere")
            check(typ == "OK", f"(a) the other client moved one message away ({typ})")
        # More mail while it runs, already \Seen (as if a human had opened it first).
        with servers.imap(s.user) as c:
            for i in range(n, n + 6):
                c.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(ARRIVED), s.customers.unsubscribe(i))
        wait_for(lambda: servers.count(s.user, "INBOX") == 0, 60, "(a) INBOX drained")
        wait_for(lambda: len(s.smtp.index()) >= n + 5, 30, "(a) replies")
        time.sleep(1)
    finally:
        rc = d.stop()
    check(rc == 0, f"(a) daemon stops with 0 (got {rc})")
    processed = count(servers, s.user, "Processed")
    elsewhere = count(servers, s.user, "Elsewhere")
    check(processed + elsewhere == n + 6 and elsewhere == 1,
          f"(a) {processed} Processed + {elsewhere} moved away by the other client = {n + 6}")
    mids = {r[0] for r in s.rows("SELECT message_id FROM requests")}
    expected = {s.customers.mid(i) for i in range(n + 6)} - {moved_mid}
    check(expected <= mids and len(mids) <= n + 6,
          f"(a) every message left to the daemon was recorded, once ({len(mids)} rows)")
    replies = reply_copies(s.smtp)
    check(len(replies) == len(mids) and set(replies.values()) == {1}, f"(a) one reply per request ({len(replies)})")
    flags = servers.folder_flags(s.user, "Processed")
    seen = sum(1 for f in flags.values() if "\\Seen" in f)
    # 20 of the first 40 were marked by the other client (one of which may be the moved
    # one), 6 were appended \Seen: the daemon added no \Seen of its own.
    check(seen in (25, 26), f"(a) the daemon never set \\Seen ({seen} of {len(flags)} seen in Processed)")


def test_folder_deleted(servers, binary, tmp):
    """(a2) The other client deletes the Processed folder while the daemon runs (an operator
    tidying up): the daemon creates it again and goes on; no mail is taken for poison."""
    s = Setup(servers, binary, tmp, "a2", 6, mailbox={"poll_interval": "1s"})
    d = s.daemon()
    try:
        append_many(servers, s.user, [s.customers.unsubscribe(i) for i in range(3)])
        wait_for(lambda: servers.count(s.user, "INBOX") == 0 and len(s.smtp.index()) >= 3, 30,
                 "(a2) the first three")
        with servers.imap(s.user) as c:
            check(c.delete("Processed")[0] == "OK", "(a2) the other client deleted Processed")
        append_many(servers, s.user, [s.customers.unsubscribe(i) for i in range(3, 6)])
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: servers.count(s.user, "INBOX") == 0 and len(s.smtp.index()) >= 6, 20,
                     "(a2) the next three")
    finally:
        rc = d.stop()
    check(rc == 0, f"(a2) daemon stops with 0 (got {rc})")
    counts = {f: count(servers, s.user, f) for f in ("INBOX",) + FOLDERS}
    check(counts == {"INBOX": 0, "Processed": 3, "Needs-Review": 0, "Quarantine": 0},
          f"(a2) Processed created again and the next three moved there: {counts}")
    outcomes = sorted(r[0] for r in s.rows("SELECT outcome FROM requests"))
    check(outcomes == ["cancelled"] * 6, f"(a2) all six applied, none quarantined: {outcomes}")
    check(len(s.smtp.index()) == 6, f"(a2) six replies ({len(s.smtp.index())})")
    check("quarantined" not in s.log_text(), "(a2) nothing logged as quarantined")


# --- (b) ----------------------------------------------------------------------------------
def uidvalidity(servers, user, folder):
    with servers.imap(user) as c:
        typ, data = c.status(_quote(folder), "(UIDVALIDITY)")
    return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))


def take_all(servers, user, folder):
    """Removes every message from FOLDER; returns [(raw, internaldate string)]."""
    out = []
    with servers.imap(user) as c:
        c.select(_quote(folder))
        uids = c.uid("SEARCH", None, "ALL")[1][0].split()
        for uid in uids:
            typ, data = c.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            date = re.search(rb'INTERNALDATE "([^"]+)"', data[0][0]).group(1).decode()
            out.append((data[0][1], f'"{date}"'))
        if uids:
            c.uid("STORE", b",".join(uids), "+FLAGS.SILENT", "(\\Deleted)")
            c.expunge()
    return out


def test_uidvalidity(servers, binary, tmp):
    n = 8
    s = Setup(servers, binary, tmp, "b", n, folder="Requests", mailbox={"poll_interval": "1s"})
    raws = [s.customers.unsubscribe(i) for i in range(n)]
    raws += [crlf(QUESTION.format(n=i, addr=f"q{i}-{s.customers.prefix}@example.net",
                                  mid=f"q{i}-{s.customers.prefix}@example.net")) for i in range(2)]
    # One without a Message-ID: its key is the hash of its bytes.
    raws.append(crlf(QUESTION.format(n=9, addr=f"q9-{s.customers.prefix}@example.net", mid="x")
                     .replace("Message-ID: <x>\n", "")))
    append_many(servers, s.user, raws, folder="Requests")
    d = s.daemon()
    try:
        wait_for(lambda: servers.count(s.user, "Requests") == 0 and len(s.smtp.index()) >= n, 60,
                 "(b) the first pass")
        time.sleep(1)
        before = (len(s.rows("SELECT id FROM requests")), len(s.rows("SELECT id FROM outbox")), len(s.smtp.index()),
                  s.log_text().count("message uid="))
        v1 = uidvalidity(servers, s.user, "Requests")
        print(f"(b) first pass: requests, outbox, spool, logged = {before}, UIDVALIDITY {v1}", flush=True)
        back = take_all(servers, s.user, "Processed") + take_all(servers, s.user, "Needs-Review")
        with servers.imap(s.user) as c:
            check(c.delete("Requests")[0] == "OK", "(b) the watched folder deleted under the daemon")
            time.sleep(3)  # the daemon notices the folder is gone, and finds none to select
            check(c.create("Requests")[0] == "OK", "(b) and created again")
            for raw, date in back:
                typ, _ = c.append("Requests", None, date, raw)
                if typ != "OK":
                    raise RuntimeError("APPEND")
        v2 = uidvalidity(servers, s.user, "Requests")
        check(v2 != v1, f"(b) UIDVALIDITY changed ({v1} -> {v2}), same {len(back)} mails in it")
        try:
            wait_for(lambda: servers.count(s.user, "Requests") == 0, 30, "(b) the second pass")
        except TimeoutError:
            print("(b) daemon log, last lines:\n    " + "\n    ".join(s.log_text().splitlines()[-8:]))
            raise
        time.sleep(2)
        after = (len(s.rows("SELECT id FROM requests")), len(s.rows("SELECT id FROM outbox")), len(s.smtp.index()),
                 s.log_text().count("message uid="))
    finally:
        rc = d.stop()
    check(rc == 0, f"(b) daemon stops with 0 (got {rc})")
    check(after == before, f"(b) nothing reprocessed: requests, outbox, spool, logged {before} -> {after}")
    check(servers.count(s.user, "Processed") == n and servers.count(s.user, "Needs-Review") == 3,
          f"(b) moved back where they belong: {n} Processed, 3 Needs-Review")


# --- (c) ---------------------------------------------------------------------------------
def spool_times(smtp):
    """{recipient: wall-clock seconds the SMTP server accepted the first mail to it}."""
    out = {}
    for e in smtp.index():
        t = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
        for r in e["rcpt_tos"]:
            out.setdefault(r.lower(), t)
    return out


def test_idle_latency(servers, binary, tmp):
    total = LATENCY_N + BURST_N
    s = Setup(servers, binary, tmp, "c", total, mailbox={"poll_interval": "10m"})
    d = s.daemon()
    appended = {}  # customer n -> wall-clock time just before its APPEND
    try:
        time.sleep(2)  # started, first (empty) drain done, idling
        check(d.alive(), "(c) daemon running")
        internal = imaplib.Time2Internaldate(ARRIVED)
        with servers.imap(s.user) as c:
            # One at a time, each once the previous reply is out; the next mail comes
            # right away (the daemon may be between its last command and IDLE) or later.
            for i in range(LATENCY_N):
                appended[i] = time.time()
                c.append("INBOX", None, internal, s.customers.unsubscribe(i))
                addr = s.customers.addr(i).lower()
                with contextlib.suppress(TimeoutError):
                    wait_until(lambda: addr in spool_times(s.smtp), 15, interval=0.01)
                time.sleep((0.0, 0.05, 0.3, 1.0)[i % 4])
            # A burst: mail arriving while the daemon is busy with the previous one (its
            # EXISTS comes in the answer to a FETCH or MOVE, not during IDLE).
            for j, i in enumerate(range(LATENCY_N, total)):
                appended[i] = time.time()
                c.append("INBOX", None, internal, s.customers.unsubscribe(i))
                time.sleep((0.02, 0.1, 0.25)[j % 3])
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: len(spool_times(s.smtp)) >= total, 15, interval=0.05)
    finally:
        rc = d.stop()
    got = spool_times(s.smtp)
    latencies = [got.get(s.customers.addr(i).lower(), float("inf")) - appended[i] for i in sorted(appended)]
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    print(f"(c) IDLE latency over {len(latencies)} messages: p50 {p50:.3f} s, p99 {p99:.3f} s, "
          f"max {ordered[-1]:.3f} s; one at a time: {' '.join(f'{x:.2f}' for x in latencies[:LATENCY_N])}; "
          f"burst: {' '.join(f'{x:.2f}' for x in latencies[LATENCY_N:])}", flush=True)
    check(len(latencies) == total and max(latencies) <= 2.0,
          f"(c) every reply within 2 s of the APPEND (max {ordered[-1]:.2f} s)")
    check(rc == 0, f"(c) daemon stops with 0 (got {rc})")


# --- (d) ----------------------------------------------------------------------------------
def test_tls(servers, binary, tmp):
    s = Setup(servers, binary, tmp, "d", 2, tls=True)
    check(s.config_kw["tls"] and "imaps://" in open(s.config).read(), "(d) config uses imaps:// and the CA")
    append_many(servers, s.user, [s.customers.unsubscribe(0)])
    rc, out, err = run_mailreqd(binary, "run", "--config", s.config, "--once")
    check(rc == 0 and len(s.smtp.index()) == 1, f"(d) imaps:// with the right CA: processed and replied (rc {rc})")

    wrong = os.path.join(s.dir, "wrong-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=Not The Test CA", "-keyout", os.path.join(s.dir, "wrong-ca.key"),
                    "-out", wrong], check=True, capture_output=True)
    config = s.write_config(mailbox={"ca_file": wrong})
    append_many(servers, s.user, [s.customers.unsubscribe(1)])
    start = time.monotonic()
    rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once")
    took = time.monotonic() - start
    lines = [line for line in err.splitlines() if line.strip()]
    print(f"(d) wrong CA: rc {rc} after {took:.1f} s; log: {lines}", flush=True)
    check(rc not in (0, None), f"(d) a wrong CA: non-zero exit (got {rc}) within {took:.1f} s")
    check(any("SSL certificate problem" in line for line in lines),
          "(d) the logged error says what is wrong with the certificate (libcurl's own words)")
    check(any("error" in line.lower() or line.startswith("<3>") for line in lines), "(d) logged as an error")
    check(servers.count(s.user, "INBOX") == 1 and len(s.smtp.index()) == 1, "(d) nothing processed")
    check(len(s.rows("SELECT id FROM requests")) == 1, "(d) nothing recorded")


# --- (e) ----------------------------------------------------------------------------------
def test_chunked_drain(servers, binary, tmp):
    """(e) A drain of three chunks (250 mails each at most): the next chunk's FETCH goes out
    while one chunk is recorded, and its answer is what the daemon reads next."""
    n = 600
    s = Setup(servers, binary, tmp, "e", n, smtp_options={"max_per_hour": 100000})
    append_many(servers, s.user, [s.customers.unsubscribe(i) for i in range(n)])
    rc, out, err = run_mailreqd(binary, "run", "--config", s.config, "--once", timeout=120)
    check(rc == 0, f"(e) run --once exits 0" + ("" if rc == 0 else f" (got {rc}: {err[-400:]})"))
    mids = [r[0] for r in s.rows("SELECT message_id FROM requests")]
    check(len(mids) == n and set(mids) == {s.customers.mid(i) for i in range(n)},
          f"(e) every mail recorded once ({len(mids)} rows, {len(set(mids))} distinct)")
    check(count(servers, s.user, "Processed") == n and servers.count(s.user, "INBOX") == 0,
          "(e) every mail moved to Processed")
    wait_for(lambda: len(s.smtp.index()) >= n, 30, "(e) replies")
    replies = reply_copies(s.smtp)
    check(len(replies) == n and set(replies.values()) == {1}, f"(e) one reply per mail ({len(replies)})")
    # A prefetch answer dropped (and fetched again) would send its 250 bodies twice.
    bodies = re.findall(r"drain-done .*imap_bodies=(\d+)", err)
    check(bodies == [str(n)], f"(e) each body fetched once (imap_bodies: {bodies})")


def main():
    binary = mailreqd_binary()
    start = time.monotonic()
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        for name, test in (("(a)", test_other_client), ("(a2)", test_folder_deleted), ("(b)", test_uidvalidity),
                           ("(c)", test_idle_latency), ("(d)", test_tls),
                           ("(e)", test_chunked_drain)):
            t = time.monotonic()
            try:
                test(servers, binary, tmp)
            except Exception as e:  # noqa: BLE001 - one part failing must not hide the others
                import traceback
                traceback.print_exc()
                check(False, f"{name} raised {type(e).__name__}: {e}")
            print(f"{name} took {time.monotonic() - t:.1f} s", flush=True)
    print(f"total {time.monotonic() - start:.1f} s")
    finish()


if __name__ == "__main__":
    main()
