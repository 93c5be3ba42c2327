#!/usr/bin/python3
"""Reads replies written by tests/daemon/reply_mail_test.cc back with Python's email
package (policy=email.policy.default) and checks that they decode exactly to what was
meant: one sender, one recipient, the intended header fields and nothing else, subject,
ids and body.

Usage: reply_parse_check.py DIR
DIR holds one folder per case: message.eml plus one file per expected value (from_name,
from_addr, to_name, to_addr, subject, message_id, references, body), UTF-8. Exit status 0
when every case passes; otherwise each failure is printed and the status is 1.
"""

import email
import email.header
import email.policy
import email.utils
import pathlib
import sys

FIELDS = ["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
          "Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
          "X-Mailreqd"]


def expected(case, name):
    return (case / name).read_bytes().decode("utf-8")


def check_lines(raw, fail):
    header_end = raw.index(b"\r\n\r\n") + 2
    for i, line in enumerate(raw.split(b"\r\n")[:-1]):
        if b"\r" in line or b"\n" in line:
            fail(f"line {i + 1}: bare CR or LF")
        if len(line) > 998:
            fail(f"line {i + 1}: {len(line)} octets")
    for line in raw[:header_end].split(b"\r\n")[:-1]:
        if len(line) > 78:
            fail(f"header line of {len(line)} octets: {line[:40]!r}")
    if not raw.endswith(b"\r\n"):
        fail("does not end with CRLF")


def rfc2047_display_name(raw, field):
    """The display name decoded by the legacy email.header decoder. Python's structured
    header parser keeps the white space between adjacent encoded words of a phrase, against
    RFC 2047 section 6.2 (it cannot read back a long name it encodes itself); the legacy
    decoder follows the RFC."""
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, _ = email.utils.parseaddr(legacy[field])
    return str(email.header.make_header(email.header.decode_header(name)))


def check_mailbox(msg, raw, field, name, addr, fail):
    header = msg[field]
    if len(msg.get_all(field, [])) != 1:
        fail(f"{field}: not exactly one field")
    addresses = header.addresses
    if len(addresses) != 1:
        fail(f"{field}: {len(addresses)} addresses")
        return
    got = addresses[0].display_name
    if got != name:
        got = rfc2047_display_name(raw, field)
    if got != name:
        fail(f"{field} name: {got!r} != {name!r}")
    if addresses[0].addr_spec != addr:
        fail(f"{field} address: {addresses[0].addr_spec!r} != {addr!r}")


def check_case(case):
    failures = []
    fail = failures.append
    raw = (case / "message.eml").read_bytes()
    check_lines(raw, fail)
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    references = expected(case, "references")
    names = [f for f in FIELDS if f != "In-Reply-To" or "In-Reply-To" in msg]
    if not references:
        names.remove("References")
    if list(msg.keys()) != names:
        fail(f"fields {list(msg.keys())} != {names}")
    for field in ("Cc", "Bcc", "Resent-To", "Reply-To"):
        if field in msg:
            fail(f"unexpected {field}")
    if msg.defects:
        fail(f"message defects {msg.defects}")
    for field, value in msg.items():
        if value.defects:
            fail(f"{field} defects {value.defects}")

    check_mailbox(msg, raw, "From", expected(case, "from_name"), expected(case, "from_addr"), fail)
    check_mailbox(msg, raw, "To", expected(case, "to_name"), expected(case, "to_addr"), fail)
    if str(msg["Subject"]) != expected(case, "subject"):
        fail(f"subject {str(msg['Subject'])!r} != {expected(case, 'subject')!r}")
    if msg["Message-ID"] != "<" + expected(case, "message_id") + ">":
        fail(f"Message-ID {msg['Message-ID']!r}")
    if references and " ".join(str(msg["References"]).split()) != references:
        fail(f"References {str(msg['References'])!r} != {references!r}")
    if msg["Date"].datetime is None:
        fail("Date does not parse")
    if msg["Auto-Submitted"] != "auto-replied":
        fail("Auto-Submitted")
    if msg.get_content_type() != "text/plain" or msg.get_content_charset() != "utf-8":
        fail(f"content type {msg.get_content_type()} {msg.get_content_charset()}")

    body = msg.get_content().replace("\r\n", "\n")
    want = expected(case, "body")
    if not want.endswith("\n"):
        want += "\n"
    if body != want:
        fail(f"body {body[:80]!r}... != {want[:80]!r}...")
    return failures


def main():
    root = pathlib.Path(sys.argv[1])
    cases = sorted(p for p in root.iterdir() if p.is_dir())
    failed = 0
    for case in cases:
        failures = check_case(case)
        if failures:
            failed += 1
            for f in failures:
                print(f"reply_parse_check: {case.name}: {f}", file=sys.stderr)
    print(f"reply_parse_check: {len(cases) - failed}/{len(cases)} cases decode as intended",
          file=sys.stderr)
    return 1 if failed or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
