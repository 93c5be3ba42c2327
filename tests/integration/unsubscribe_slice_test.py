"""The first slice end to end against real Dovecot and a real SMTP server:
an unsubscribe changes the database, the reply with the end date reaches the SMTP
server threaded under the request, the mail sits in Processed, an unknown mail goes to
Needs-Review untouched, and a second run sends nothing. Also: a malformed CSV is
rejected with file:line and imports nothing."""
import datetime
import json
import os
import sqlite3
import sys
import tempfile

from harness import Servers, mailreqd_binary, run_mailreqd

HKT = datetime.timezone(datetime.timedelta(hours=8))

CUSTOMERS = """username,email,name,postal_address,telephone,fax,marketing_opt_in
{user},{addr},Alice Chan,"Flat 3A, 12 Harbour Road",+852 2345 6789,,true
"""
SUBSCRIPTIONS = """username,service,anchor
{user},streaming,2026-01-31
"""

UNSUBSCRIBE = """From: Alice Chan <{addr}>
To: Customer Service <support@shop.example>
Subject: Re: unsubscribe
Date: Sat, 28 Feb 2026 00:30:00 +0800
Message-ID: <{mid}>
References: <older-thread@shop.example>
Content-Type: text/plain; charset=utf-8

Please cancel.
Username: {user}
Service: streaming
"""

UNKNOWN = """From: Someone <someone-{user}@example.net>
To: support@shop.example
Subject: Do your films have subtitles?
Message-ID: <q-{mid}>
Content-Type: text/plain; charset=us-ascii

Just wondering.
"""


def crlf(s):
    return s.replace("\n", "\r\n").encode()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    binary = mailreqd_binary()
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        user, password_file = servers.new_mailbox_user()
        addr = f"alice-{user}@example.com"
        config = servers.write_config(os.path.join(tmp, "mailreqd.yaml"), user=user,
                                      password_file=password_file)

        # A malformed CSV: errors name file:line, and nothing is imported.
        bad = write(os.path.join(tmp, "bad.csv"),
                    CUSTOMERS.format(user=user, addr=addr) + "bob,not-an-email,Bob,,,,maybe\n")
        rc, out, err = run_mailreqd(binary, "import-customers", bad, "--config", config)
        check(rc != 0, "malformed customers CSV is refused")
        check(f"{bad}:3:" in err, "the error names file:line (" + err.strip().splitlines()[0] + ")")
        rc, out, err = run_mailreqd(binary, "show", user, "--config", config)
        check(rc != 0, "nothing was imported from the malformed file")

        rc, out, err = run_mailreqd(binary, "import-customers",
                                    write(os.path.join(tmp, "c.csv"), CUSTOMERS.format(user=user, addr=addr)),
                                    "--config", config)
        check(rc == 0, "customers imported: " + out.strip() + err.strip())
        rc, out, err = run_mailreqd(binary, "import-subscriptions",
                                    write(os.path.join(tmp, "s.csv"), SUBSCRIPTIONS.format(user=user)),
                                    "--config", config)
        check(rc == 0, "subscriptions imported: " + out.strip() + err.strip())

        mid = f"unsub-{user}@example.com"
        # 00:30 in Hong Kong on 28 Feb is still 27 Feb in UTC: the zone decides. 28 Feb is
        # a renewal date of a 31 Jan anchor, so the period runs to 30 Mar.
        arrived = datetime.datetime(2026, 2, 28, 0, 30, tzinfo=HKT)
        servers.append(user, "INBOX", crlf(UNSUBSCRIBE.format(addr=addr, user=user, mid=mid)), date=arrived)
        servers.append(user, "INBOX", crlf(UNKNOWN.format(user=user, mid=mid)), date=arrived)

        rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once")
        sys.stderr.write(err)
        check(rc == 0, f"run --once exits 0 (got {rc})")

        rc, out, err = run_mailreqd(binary, "show", user, "--config", config)
        shown = json.loads(out)
        sub = shown["subscriptions"][0]
        today = datetime.datetime.now(HKT).date()
        expected = "ended" if datetime.date(2026, 3, 30) < today else "cancelling"
        check(sub["status"] == expected and sub["ends_on"] == "2026-03-30",
              f"subscription ends on the last day of the period: {sub}")

        replies = servers.smtp_messages(rcpt=addr)
        check(len(replies) == 1, f"one reply reached the SMTP server (got {len(replies)})")
        _, rcpts, raw, msg = replies[0]
        check(rcpts == [addr], "sent to the sender only")
        body = msg.get_body(("plain",)).get_content()
        check("30 March 2026" in body and "2026-03-30" in body, "the reply states the end date")
        check(msg["In-Reply-To"] == f"<{mid}>", "threaded: In-Reply-To")
        check(f"<{mid}>" in msg["References"] and "<older-thread@shop.example>" in msg["References"],
              "threaded: References")
        check(msg["Auto-Submitted"] == "auto-replied", "Auto-Submitted: auto-replied")
        check(msg["Subject"].startswith("Your streaming subscription"), "subject from the template")

        check(servers.count(user, "INBOX") == 0, "INBOX drained")
        check(servers.count(user, "Processed") == 1, "the request sits in Processed")
        review = servers.list_folder(user, "Needs-Review")
        check(len(review) == 1 and b"subtitles" in review[0], "the unknown mail sits in Needs-Review")
        check(not servers.smtp_messages(rcpt=f"someone-{user}@example.net"), "no reply to the unknown mail")

        db = sqlite3.connect(os.path.join(tmp, "mailreqd.db"))
        outcomes = sorted(r[0] for r in db.execute("SELECT outcome FROM requests"))
        check(outcomes == ["cancelled", "review"], f"requests recorded: {outcomes}")

        # A Chinese request is answered in Chinese, the subject as RFC 2047 encoded words.
        zh = (f"From: =?UTF-8?B?6Zmz576O?= <{addr}>\nTo: support@shop.example\n"
              "Subject: =?UTF-8?B?5Y+W5raI6KiC6Zax?=\n"
              f"Message-ID: <zh-{mid}>\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: 8bit\n\n我想取消訂閱。\n用戶名稱：" + user + "\n")
        servers.append(user, "INBOX", crlf(zh), date=arrived)
        rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once")
        check(rc == 0, "run --once on the Chinese request")
        replies = servers.smtp_messages(rcpt=addr)
        check(len(replies) == 2, "the Chinese request got one reply")
        raw_head = replies[1][2].split(b"\r\n\r\n", 1)[0].decode("ascii")
        check("Subject: =?UTF-8?B?" in raw_head, "its Subject is RFC 2047 encoded: " +
              raw_head.split("Subject: ", 1)[1].split("\r\n")[0])
        check(all(ord(c) < 128 for c in raw_head), "the header block is pure ASCII")
        zh_msg = replies[1][3]
        check(any("\u4e00" <= c <= "\u9fff" for c in str(zh_msg["Subject"])), "and decodes to Chinese")
        check("2026年3月30日" in zh_msg.get_body(("plain",)).get_content(), "the body states the date in Chinese")
        check(zh_msg["In-Reply-To"] == f"<zh-{mid}>", "threaded under the Chinese request")

        rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once")
        check(rc == 0, "second run exits 0")
        check(len(servers.smtp_messages(rcpt=addr)) == 2, "a second run sends nothing")
        check(db.execute("SELECT count(*) FROM requests").fetchone()[0] == 3, "and records nothing new")


if __name__ == "__main__":
    main()
