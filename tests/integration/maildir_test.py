"""A local Maildir (mailbox.url: maildir:///...) end to end, with the real SMTP server:
 (a) mail delivered into new/ is acted on, answered, and moved to the sibling folders
     .Processed/ and .Needs-Review/ (flags kept); a second run does nothing;
 (b) the daemon notices a delivery at once (inotify) and answers within 2 s (printed);
 (c) SIGKILL while a backlog drains, several times, restarting each time: every request
     applied exactly once, everyone answered, no mail left in new/ or cur/."""
import os
import random
import tempfile
import time

from engine_common import (ARRIVED, END_DATE, Customers, Daemon, check, db, finish, reply_copies,
                           wait_for)
from harness import Servers, mailreqd_binary, run_mailreqd

QUESTION = ("From: Someone <someone@example.net>\r\nTo: support@shop.example\r\n"
            "Subject: Do your films have subtitles?\r\nMessage-ID: <q-{tag}@example.net>\r\n\r\n"
            "Just wondering.\r\n")


class Maildir:
    def __init__(self, root):
        self.root = root
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, sub))
        self.serial = 0

    def deliver(self, raw: bytes, when=ARRIVED):
        """As an MTA does: write into tmp/, then rename into new/ (RFC-less but universal)."""
        self.serial += 1
        name = f"{int(time.time())}.M{self.serial}P{os.getpid()}.test"
        tmp = os.path.join(self.root, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(raw)
        stamp = when.timestamp()
        os.utime(tmp, (stamp, stamp))
        os.rename(tmp, os.path.join(self.root, "new", name))

    def names(self, folder=""):
        base = os.path.join(self.root, f".{folder}" if folder else "")
        out = []
        for sub in ("new", "cur"):
            path = os.path.join(base, sub)
            out += os.listdir(path) if os.path.isdir(path) else []
        return out


def setup(servers, binary, tmp, name, count):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    box = Maildir(os.path.join(d, "Maildir"))
    smtp = servers.new_smtp_server()
    config = servers.write_config(
        os.path.join(d, "mailreqd.yaml"), smtp=smtp,
        mailbox={"url": f"maildir://{box.root}", "username": None, "password_file": None,
                 "quarantine_folder": "Quarantine"})
    customers = Customers(binary, config, d, name, count)
    return d, box, smtp, config, customers


def test_once(servers, binary, tmp):
    d, box, smtp, config, customers = setup(servers, binary, tmp, "once", 5)
    for n in range(5):
        box.deliver(customers.unsubscribe(n))
    box.deliver(QUESTION.format(tag="once").encode())
    # A mail someone already read in a mail client (in cur/ with the Seen flag).
    os.rename(os.path.join(box.root, "new", sorted(os.listdir(os.path.join(box.root, "new")))[0]),
              os.path.join(box.root, "cur", "seen-before.test:2,S"))
    rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once")
    check(rc == 0, f"(a) run --once exits 0 (got {rc}: {err[-500:]})")
    with db(os.path.join(d, "mailreqd.db")) as conn:
        subs = conn.execute("SELECT status, ends_on FROM subscriptions").fetchall()
        outcomes = sorted(r[0] for r in conn.execute("SELECT outcome FROM requests"))
    check(all(s["status"] == "cancelling" and s["ends_on"] == END_DATE for s in subs),
          f"(a) every subscription ends on {END_DATE}, as of the file's delivery time")
    check(outcomes == ["cancelled"] * 5 + ["review"], f"(a) requests recorded: {outcomes}")
    answered = {customers.addr(n): len(smtp.messages(rcpt=customers.addr(n))) for n in range(5)}
    check(set(answered.values()) == {1}, f"(a) one reply to each customer: {answered}")
    check(box.names() == [], f"(a) the inbox is empty: {box.names()}")
    processed = box.names("Processed")
    check(len(processed) == 5, f"(a) five mails in .Processed ({len(processed)})")
    check(any(n.endswith(":2,S") and n.startswith("seen-before") for n in processed),
          "(a) the mail read elsewhere keeps its Seen flag")
    check(len(box.names("Needs-Review")) == 1, "(a) the question waits in .Needs-Review")
    check(os.path.isfile(os.path.join(box.root, ".Processed", "maildirfolder")),
          "(a) the folder is a Maildir++ folder")
    before = len(smtp.messages())
    rc, _, _ = run_mailreqd(binary, "run", "--config", config, "--once")
    check(rc == 0 and len(smtp.messages()) == before, "(a) a second run sends nothing")


def test_daemon_latency(servers, binary, tmp):
    d, box, smtp, config, customers = setup(servers, binary, tmp, "idle", 6)
    daemon = Daemon(binary, config, os.path.join(d, "daemon.log"))
    try:
        wait_for(lambda: os.path.exists(os.path.join(box.root, "mailreqd-uidlist")), 10,
                 "the daemon looked at the Maildir")
        time.sleep(0.5)  # now waiting for mail
        latencies = []
        for n in range(6):
            start = time.monotonic()
            box.deliver(customers.unsubscribe(n))
            wait_for(lambda: smtp.messages(rcpt=customers.addr(n)), 10, f"reply {n}")
            latencies.append(time.monotonic() - start)
        latencies.sort()
        print(f"maildir latency: delivery to reply over {len(latencies)} mails: "
              f"p50={latencies[len(latencies) // 2]:.3f}s max={latencies[-1]:.3f}s")
        check(latencies[-1] <= 2.0, f"(b) every reply within 2 s of delivery (max {latencies[-1]:.2f}s)")
    finally:
        rc = daemon.stop()
    check(rc == 0, f"(b) SIGTERM: the daemon exits 0 (got {rc})")


def test_kills(servers, binary, tmp, count=120, kills=4):
    d, box, smtp, config, customers = setup(servers, binary, tmp, "kill", count)
    for n in range(count):
        box.deliver(customers.unsubscribe(n))
    log = os.path.join(d, "daemon.log")
    rng = random.Random(7)
    for _ in range(kills):
        daemon = Daemon(binary, config, log)
        time.sleep(rng.uniform(0.05, 0.6))
        daemon.kill()
    daemon = Daemon(binary, config, log)
    try:
        wait_for(lambda: not box.names() and len(reply_copies(smtp)) >= count, 60,
                 "inbox drained and everyone answered")
    finally:
        daemon.stop()
    with db(os.path.join(d, "mailreqd.db")) as conn:
        per_key = conn.execute("SELECT count(*) FROM requests GROUP BY key HAVING count(*) > 1").fetchall()
        requests = conn.execute("SELECT count(*) FROM requests").fetchone()[0]
        cancelled = conn.execute("SELECT count(*) FROM subscriptions WHERE status = 'cancelling'").fetchone()[0]
    check(requests == count and not per_key, f"(c) each request recorded once ({requests}/{count})")
    check(cancelled == count, f"(c) every subscription cancelled ({cancelled}/{count})")
    copies = reply_copies(smtp)
    check(len(copies) == count and max(copies.values()) <= 1 + kills,
          f"(c) everyone answered, duplicates within the kills ({len(copies)} replies, "
          f"max copies {max(copies.values())}, {kills} kills)")
    moved = len(box.names("Processed"))
    check(moved == count, f"(c) every mail in .Processed ({moved}/{count})")


def main():
    binary = mailreqd_binary()
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        test_once(servers, binary, tmp)
        test_daemon_latency(servers, binary, tmp)
        test_kills(servers, binary, tmp)
    finish()


if __name__ == "__main__":
    main()
