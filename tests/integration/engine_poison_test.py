"""A poison message must not stop the mailbox: with MAILREQD_TEST_ABORT_MARKER=XYZ the
daemon abort()s while processing any mail whose raw bytes contain XYZ (a test hook
standing in for a crash bug in a parser). After three such crashes for the same mail it
is moved to the quarantine folder (mailbox.quarantine_folder, "Quarantine") and logged,
and the rest of the mailbox is processed. This test restarts `run --once` until it exits
normally (each crash ends it with a signal), at most 8 runs, then checks exactly that:
three crashes, the poison mail alone in Quarantine and unanswered, every other request
processed and answered once, INBOX empty."""
import os
import secrets
import signal
import tempfile

from engine_common import FOLDERS, QUESTION, Customers, append_many, check, crlf, finish, reply_copies
from harness import Servers, mailreqd_binary, run_mailreqd

N = 6
MAX_RUNS = 8
CRASHES = 3


def main():
    binary = mailreqd_binary()
    marker = "POISON-" + secrets.token_hex(8)
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        smtp = servers.new_smtp_server()
        user, password_file = servers.new_mailbox_user(folders=FOLDERS)
        config = servers.write_config(os.path.join(tmp, "mailreqd.yaml"), user=user,
                                      password_file=password_file, smtp=smtp)
        customers = Customers(binary, config, tmp, user.replace("-", ""), N)
        poison_addr = f"poison-{customers.prefix}@example.net"
        poison = crlf(QUESTION.format(n=99, addr=poison_addr, mid=f"poison-{customers.prefix}@example.net")
                      .replace("Just wondering.", f"Just wondering. {marker}"))
        # The poison mail in the middle: mail before and after it must both get through.
        append_many(servers, user, [customers.unsubscribe(n) for n in range(N // 2)] + [poison] +
                    [customers.unsubscribe(n) for n in range(N // 2, N)])

        env = {"MAILREQD_TEST_ABORT_MARKER": marker}
        results, logs = [], []
        for run in range(MAX_RUNS):
            rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once", env=env, timeout=90)
            results.append(rc)
            logs.append(err)
            print(f"run {run + 1}: exit {rc}" + (f" ({signal.Signals(-rc).name})" if rc and rc < 0 else ""),
                  flush=True)
            if rc is None or rc >= 0:
                break
        crashes = [rc for rc in results if rc is not None and rc < 0]
        if not crashes:
            check(False, "the daemon never crashed on the marked mail: MAILREQD_TEST_ABORT_MARKER "
                         "is not implemented in this build")
        check(len(crashes) == CRASHES and all(rc == -signal.SIGABRT for rc in crashes),
              f"exactly {CRASHES} crashes, each SIGABRT (exits: {results})")
        check(results[-1] == 0, f"then a run that finishes normally (exit {results[-1]}) "
                                f"within {MAX_RUNS} runs ({len(results)} runs)")

        check(servers.count(user, "INBOX") == 0, "INBOX empty")
        quarantined = servers.list_folder(user, "Quarantine") if "Quarantine" in servers.folders(user) else []
        check(len(quarantined) == 1 and marker.encode() in quarantined[0],
              f"the poison mail, and only it, in Quarantine ({len(quarantined)})")
        check(servers.count(user, "Processed") == N, f"the {N} other requests in Processed")
        copies = reply_copies(smtp)
        got = {r.lower() for m in smtp.messages() for r in m.rcpts}
        check(all(customers.addr(n).lower() in got for n in range(N)), "every other sender got a reply")
        check(len(copies) == N and sum(copies.values()) <= N + CRASHES,
              f"{N} replies, duplicates bounded by the crashes ({sum(copies.values())} copies)")
        check(poison_addr.lower() not in got, "no reply to the poison mail")
        all_logs = "\n".join(logs)
        check("quarantin" in all_logs.lower(), "the quarantine is logged")
        check(poison_addr not in all_logs and marker not in all_logs,
              "the log holds neither the sender's address nor the mail's content")
    finish()


if __name__ == "__main__":
    main()
