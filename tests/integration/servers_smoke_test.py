#!/usr/bin/python3
"""Proves the test servers and the harness work: IMAP (plain and TLS, imaplib and curl),
per-test users, SMTP recording and fault injection, config writing, run_mailreqd.

Runs under ctest (fixture "servers") or alone: /usr/bin/python3 servers_smoke_test.py
starts and stops private servers when MAILREQD_TEST_SERVERS is not set.
"""

import datetime
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Servers, run_mailreqd  # noqa: E402

HK = datetime.timezone(datetime.timedelta(hours=8))


def message(subject: str, to: str = "support@shop.example") -> bytes:
    return (f"From: Test Customer <customer@example.com>\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\n"
            f"Date: Mon, 03 Mar 2025 10:00:00 +0800\r\n\r\nHello.\r\n.\r\nA line with a dot.\r\n").encode()


def check_imap(servers: Servers) -> None:
    user, password_file = servers.new_mailbox_user()
    assert os.stat(password_file).st_mode & 0o077 == 0, "password file must be 0600"
    assert {"INBOX", "Processed", "Needs-Review"} <= set(servers.folders(user)), servers.folders(user)

    arrived = datetime.datetime(2025, 3, 31, 23, 30, tzinfo=HK)
    uid = servers.append(user, "INBOX", message("smoke-1"), date=arrived)
    assert uid == 1, uid
    stored = servers.list_folder(user, "INBOX")
    assert stored == [message("smoke-1")], stored
    assert servers.folder_flags(user, "INBOX") == {1: set()}, "list_folder must not set \\Seen"
    with servers.imap(user, tls=True) as c:  # IMAPS, verified against the test CA
        c.select("INBOX", readonly=True)
        typ, data = c.uid("FETCH", "1", "(INTERNALDATE)")
        # Dovecot keeps the instant (Maildir mtime), not the zone it was given in.
        text = re.search(rb'INTERNALDATE "([^"]+)"', data[0]).group(1).decode()
        assert datetime.datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z") == arrived, data

    # Another user sees nothing of it: tests are isolated.
    other, _ = servers.new_mailbox_user(folders=())
    assert servers.count(other, "INBOX") == 0
    assert "Processed" not in servers.folders(other)

    # libcurl, as the daemon uses it: plain and TLS with the CA file.
    if shutil.which("curl"):
        password = servers.password(user)
        for url, extra in ((servers.imap_url(), []),
                           (servers.imap_url(tls=True), ["--cacert", servers.ca_file])):
            out = subprocess.run(["curl", "-sS", "--max-time", "20", "--url", url, "-u", f"{user}:{password}",
                                  "-X", "UID SEARCH ALL", *extra],
                                 capture_output=True, text=True, check=True).stdout
            assert out.strip() == "* SEARCH 1", (url, out)


def check_smtp(servers: Servers) -> None:
    rcpt = f"smoke-{os.getpid()}@example.com"
    with smtplib.SMTP(servers.smtp.host, servers.smtp.port, timeout=20) as s:
        s.sendmail("support@shop.example", [rcpt], message("reply-1", rcpt))
    got = servers.smtp_messages(rcpt=rcpt)
    assert len(got) == 1, got
    assert got[0].mail_from == "support@shop.example" and got[0].rcpts == [rcpt]
    assert got[0].raw == message("reply-1", rcpt), got[0].raw  # dot-unstuffed, CRLF kept
    assert got[0].message["Subject"] == "reply-1"

    # Fault injection on a private server, so parallel tests are not disturbed.
    private = servers.new_smtp_server()
    private.control({"fail_next": 1, "code": "451 4.3.0 try later"})
    with smtplib.SMTP(private.host, private.port, timeout=20) as s:
        try:
            s.sendmail("support@shop.example", [rcpt], message("reply-2", rcpt))
            raise AssertionError("expected a 451")
        except smtplib.SMTPDataError as e:
            assert e.smtp_code == 451, e
        s.sendmail("support@shop.example", [rcpt], message("reply-2", rcpt))  # the retry works
    assert [m.message["Subject"] for m in private.messages()] == ["reply-2"]

    private.control({"reject_rcpt": ["nobody@example.com"]})
    with smtplib.SMTP(private.host, private.port, timeout=20) as s:
        refused = s.sendmail("support@shop.example", ["nobody@example.com", rcpt], message("reply-3", rcpt))
    assert list(refused) == ["nobody@example.com"], refused
    private.control(None)

    # SMTPS and STARTTLS verified against the same CA; curl as the daemon sends.
    with smtplib.SMTP_SSL("localhost", private.smtps_port, context=servers.ssl_context(), timeout=20) as s:
        s.sendmail("support@shop.example", [rcpt], message("reply-4", rcpt))
    with smtplib.SMTP("localhost", private.port, timeout=20) as s:
        s.starttls(context=servers.ssl_context())
        s.sendmail("support@shop.example", [rcpt], message("reply-5", rcpt))
    if shutil.which("curl"):
        with tempfile.NamedTemporaryFile() as f:
            f.write(message("reply-6", rcpt))
            f.flush()
            subprocess.run(["curl", "-sS", "--max-time", "20", "--url", private.url + "/bot.example",
                            "--mail-from", "support@shop.example", "--mail-rcpt", rcpt, "--upload-file", f.name],
                           check=True)
    index = private.index()
    assert [e["tls"] for e in index] == [False, False, True, True, False][:len(index)], index
    private.clear()
    assert private.messages() == []


def check_config_and_runner(servers: Servers) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        user, password_file = servers.new_mailbox_user()
        path = servers.write_config(os.path.join(tmp, "mailreqd.yaml"), user=user, password_file=password_file,
                                    tls=True, mailbox={"review_folder": "Review"})
        text = open(path, encoding="utf-8").read()
        assert f'url: "imaps://localhost:{servers.imaps_port}/INBOX"' in text, text
        assert f'password_file: "{password_file}"' in text
        assert 'review_folder: "Review"' in text and "ca_file:" in text
        assert 'aliases: ["streaming service", "music streaming"]' in text
        assert f'database: "{os.path.join(tmp, "mailreqd.db")}"' in text

    rc, out, err = run_mailreqd("/bin/sh", "-c", "echo out; echo err >&2; exit 3")
    assert (rc, out, err) == (3, "out\n", "err\n"), (rc, out, err)
    rc, out, err = run_mailreqd("/bin/sleep", "30", timeout=0.5)
    assert rc is None and "killed" in err


def main() -> int:
    with Servers.connect() as servers:
        check_imap(servers)
        check_smtp(servers)
        check_config_and_runner(servers)
    print("servers smoke test: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
