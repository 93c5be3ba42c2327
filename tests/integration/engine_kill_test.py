"""Exactly once under SIGKILL: N unsubscribe requests from N registered customers sit in
INBOX; the daemon (alternately `run` and `run --once`) is SIGKILLed at random moments K
times and restarted (a wave of N/K new requests before each start), then a final
`run --once` finishes. Afterwards every request was
applied exactly once (one request row per Message-ID, every subscription cancelling with
the right end date, one audit row per subscription), every sender got a reply, every
reply was received at most once more than the kills, duplicates in all are no more than
the kills times smtp.connections (a kill can only catch the replies in flight: each is
marked sent the moment the server accepts it), and every mail sits in exactly one of
Processed/Needs-Review/Quarantine.

Default N=100, K=5; MAILREQD_LONG_TESTS=1: N=500, K=20. MAILREQD_TEST_SEED=S replays the
kill moments of an earlier run (the seed is printed)."""
import os
import random
import tempfile
import time

from engine_common import (END_DATE, FOLDERS, LONG, Customers, Daemon, append_many, check, db,
                           finish, folder_counts, reply_copies)
from harness import Servers, mailreqd_binary, run_mailreqd

N = 500 if LONG else 100
KILLS = 20 if LONG else 5
CONNECTIONS = 4  # smtp.connections (its default): replies in flight at once


def recorded(dbpath):
    conn = db(dbpath)
    try:
        return conn.execute("SELECT count(*) FROM requests").fetchone()[0]
    finally:
        conn.close()


def main():
    binary = mailreqd_binary()
    seed = int(os.environ.get("MAILREQD_TEST_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print(f"N={N} kills={KILLS} seed={seed}")
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        smtp = servers.new_smtp_server()
        user, password_file = servers.new_mailbox_user(folders=FOLDERS)
        config = servers.write_config(os.path.join(tmp, "mailreqd.yaml"), user=user,
                                      password_file=password_file, smtp=smtp,
                                      mailbox={"poll_interval": "1s"})
        dbpath = os.path.join(tmp, "mailreqd.db")
        customers = Customers(binary, config, tmp, user.replace("-", ""), N)
        # The requests come in waves, one before each start, so that every run has fresh
        # work and every kill can land in the middle of it (fetching, recording, moving,
        # sending): the whole backlog at once is drained before the second kill.
        waves = [range(k * N // KILLS, (k + 1) * N // KILLS) for k in range(KILLS)]
        log = os.path.join(tmp, "daemon.log")
        start = time.monotonic()
        for k in range(KILLS):
            append_many(servers, user, [customers.unsubscribe(n) for n in waves[k]])
            once = k % 2 == 1
            d = Daemon(binary, config, log, args=("--once",) if once else ())
            delay = rng.uniform(0.02, 0.8)
            time.sleep(delay)
            exited = not d.alive()
            rc = d.kill()
            print(f"kill {k + 1}: {'run --once' if once else 'run'} after {delay:.2f} s "
                  f"({'had exited ' + str(rc) if exited else 'SIGKILL'}): {recorded(dbpath)} recorded, "
                  f"INBOX {servers.count(user, 'INBOX')}, spool {len(smtp.index())}", flush=True)
        rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once", timeout=100)
        with open(log, "a", encoding="utf-8") as f:
            f.write(err)
        check(rc == 0, f"final run --once exits 0 (got {rc}) after {time.monotonic() - start:.1f} s")

        conn = db(dbpath)
        rows = conn.execute("SELECT message_id, outcome FROM requests").fetchall()
        mids = [r["message_id"] for r in rows]
        check(len(rows) == N and set(mids) == {customers.mid(n) for n in range(N)},
              f"one request row per Message-ID ({len(rows)} rows, {len(set(mids))} distinct)")
        outcomes = {}
        for r in rows:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        check(outcomes == {"cancelled": N}, f"every request cancelled: {outcomes}")
        subs = conn.execute("SELECT id, status, ends_on FROM subscriptions").fetchall()
        good = [s for s in subs if s["status"] == "cancelling" and s["ends_on"] == END_DATE]
        check(len(subs) == N and len(good) == N,
              f"every subscription cancelling, ending {END_DATE} ({len(good)}/{len(subs)})")
        audit = {}
        for a in conn.execute("SELECT entity FROM audit WHERE entity LIKE 'subscription:%'"):
            audit[a["entity"]] = audit.get(a["entity"], 0) + 1
        check(len(audit) == N and set(audit.values()) == {1},
              f"exactly one audit row per subscription ({len(audit)} subscriptions, "
              f"counts {sorted(set(audit.values()))})")
        outbox = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        check(outbox == {"sent": N}, f"outbox: every reply sent {outbox}")
        outbox_ids = {r[0].strip("<>") for r in conn.execute("SELECT message_id FROM outbox")}
        conn.close()

        received = {r.lower() for m in smtp.messages() for r in m.rcpts}
        missing = [n for n in range(N) if customers.addr(n).lower() not in received]
        check(not missing, f"every sender got a reply (missing {len(missing)})")
        copies = reply_copies(smtp)
        extra = sum(c - 1 for c in copies.values())
        check(set(copies) == outbox_ids, f"the spool holds exactly the outbox's {len(outbox_ids)} replies")
        most = max(copies.values(), default=0)
        check(most <= 1 + KILLS, f"no reply received more than once per kill (max copies {most})")
        check(extra <= KILLS * CONNECTIONS,
              f"duplicate copies of replies: {extra} <= {KILLS} kills x {CONNECTIONS} in flight")

        counts = folder_counts(servers, user)
        check(counts["INBOX"] == 0 and sum(counts[f] for f in FOLDERS) == N,
              f"every mail in exactly one folder: {counts}")
        check(counts["Processed"] == N,
              f"all {N} in Processed (a mail in hand at 3 kills would be quarantined: {counts['Quarantine']})")
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        leaked = [n for n in range(N) if customers.addr(n) in text or customers.username(n) in text]
        check(not leaked, f"no customer address or username in the daemon's log ({len(leaked)} leaked)")
        # The server offers PIPELINING unless told not to (smtp_server.py): the daemon must
        # have sent the way that goes with it, so that both ways meet the bound above.
        way = "no" if os.environ.get("MAILREQD_TEST_SMTP_NO_PIPELINING") == "1" else "yes"
        check(f'smtp-connected pipelining={way}' in text or f'"pipelining":"{way}' in text,
              f"the daemon's log says it sent with pipelining={way}")
    finish()


if __name__ == "__main__":
    main()
