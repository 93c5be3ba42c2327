#!/usr/bin/python3
"""The demo's main part: real servers on 127.0.0.1, sample requests, one `run --once`.

Run through scripts/demo.sh, which installs what is missing and builds first.
"""
import glob
import os
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import Servers, run_mailreqd  # noqa: E402

DEMO = os.path.join(HERE, "demo")


def banner(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def run(binary, *args):
    rc, out, err = run_mailreqd(binary, *args, timeout=120)
    sys.stdout.write(out)
    sys.stdout.write(err)
    return rc


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="mailreqd-demo-") as tmp:
        os.chmod(tmp, 0o711)  # Dovecot's mail processes (user "mail") must traverse it
        demo(binary, tmp)


def demo(binary, tmp):
    with Servers.start(os.path.join(tmp, "servers")) as servers:
        config = servers.write_config(os.path.join(tmp, "mailreqd.yaml"))
        banner("import customers and subscriptions")
        run(binary, "import-customers", os.path.join(DEMO, "customers.csv"), "--config", config)
        run(binary, "import-subscriptions", os.path.join(DEMO, "subscriptions.csv"), "--config", config)

        banner("sample requests appended to INBOX (they arrive now)")
        for i, path in enumerate(sorted(glob.glob(os.path.join(DEMO, "*.eml")))):
            with open(path, "rb") as f:
                raw = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            servers.append(servers.user, "INBOX", raw)
            print(f"  {os.path.basename(path)}")

        banner("mailreqd run --once (its log)")
        rc = run(binary, "run", "--config", config, "--once")
        print(f"(exit status {rc})")

        banner("replies as the SMTP server received them")
        for mail_from, rcpts, raw, msg in servers.smtp_messages():
            print(f"--- envelope from {mail_from} to {', '.join(rcpts)}")
            head, _, _ = raw.partition(b"\r\n\r\n")
            print(head.decode("ascii", "replace"))
            body = msg.get_body(("plain",))
            print()
            print(body.get_content().strip() if body else "")
            print()

        banner("folders after the run")
        for folder in ("INBOX", "Processed", "Needs-Review"):
            print(f"  {folder:14} {servers.count(servers.user, folder)} messages")

        banner("subscriptions after the run")
        db = sqlite3.connect(os.path.join(tmp, "mailreqd.db"))
        for row in db.execute("SELECT username, service, anchor, status, ends_on FROM subscriptions ORDER BY username, service"):
            print("  {:10} {:10} anchor {}  {:11} ends {}".format(*[str(v) for v in row]))
        banner("mailreqd show alice88")
        run(binary, "show", "alice88", "--config", config)
        banner("mailreqd requests")
        run(binary, "requests", "--config", config)
        banner("second run --once: nothing new")
        run(binary, "run", "--config", config, "--once")
        print(f"  replies received in all: {len(servers.smtp_messages())}")


if __name__ == "__main__":
    main()
