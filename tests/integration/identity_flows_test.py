"""Who may ask, end to end against real Dovecot and a real SMTP server:
a forged From naming another customer's username changes nothing, the only mail that
reaches that customer is the confirmation request, and the forger learns nothing; the
token round trip (the owner presses reply) carries the request out once and a replay
does nothing; an access request from an unregistered address sends personal data only
to the registered address; KEEP restores a cancelled subscription."""
import json
import os
import re
import sys
import tempfile

from harness import Servers, mailreqd_binary, run_mailreqd

TOKEN = re.compile(r"\[ref:([a-z2-7]{26})\]")
PHONE = "+852 2345 6789"
ADDRESS = "Flat 3A, 12 Harbour Road"


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def mail(sender, subject, body, mid, extra=""):
    text = (f"From: {sender}\nTo: support@shop.example\nSubject: {subject}\nMessage-ID: <{mid}>\n"
            f"{extra}Content-Type: text/plain; charset=utf-8\n\n{body}")
    return text.replace("\n", "\r\n").encode()


class Flow:
    def __init__(self, servers, tmp):
        self.servers = servers
        self.binary = mailreqd_binary()
        self.user, pw = servers.new_mailbox_user()
        self.owner = f"alice-{self.user}@example.com"
        self.forger = f"mallory-{self.user}@attacker.example"
        # This customer gets more than the default 5 replies a day here: lift the limit
        # (processor_test covers the limit itself).
        self.config = servers.write_config(os.path.join(tmp, "mailreqd.yaml"), user=self.user,
                                           password_file=pw)
        with open(self.config, encoding="utf-8") as cfg:
            text = cfg.read()
        check("\nsmtp:\n" in text, "the config has an smtp section")
        with open(self.config, "w", encoding="utf-8") as cfg:
            cfg.write(text.replace("\nsmtp:\n", "\nsmtp:\n  max_per_recipient_per_day: 50\n", 1))
        self.n = 0
        cust = os.path.join(tmp, "c.csv")
        with open(cust, "w") as f:
            f.write("username,email,name,postal_address,telephone,fax,marketing_opt_in\n"
                    f'alice,{self.owner},Alice Chan,"{ADDRESS}",{PHONE},,true\n')
        subs = os.path.join(tmp, "s.csv")
        with open(subs, "w") as f:
            f.write("username,service,anchor\nalice,streaming,2026-01-31\n")
        for cmd, path in (("import-customers", cust), ("import-subscriptions", subs)):
            rc, out, err = run_mailreqd(self.binary, cmd, path, "--config", self.config)
            check(rc == 0, f"{cmd}: {out.strip()}{err.strip()}")

    def send(self, sender, subject, body, extra=""):
        self.n += 1
        self.servers.append(self.user, "INBOX", mail(sender, subject, body, f"m{self.n}-{self.user}@x", extra))
        rc, out, err = run_mailreqd(self.binary, "run", "--config", self.config, "--once")
        sys.stderr.write(err)
        check(rc == 0, f"run --once after mail {self.n}")

    def to(self, rcpt):
        return self.servers.smtp_messages(rcpt=rcpt)

    def subscription(self):
        rc, out, err = run_mailreqd(self.binary, "show", "alice", "--config", self.config)
        return json.loads(out)["subscriptions"][0]


def body_of(msg):
    return msg.get_body(("plain",)).get_content()


def main():
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        f = Flow(servers, tmp)

        # 1. A forger names Alice's username.
        f.send(f"Alice <{f.forger}>", "unsubscribe", "Username: alice\nService: streaming\n")
        check(f.subscription()["status"] == "active", "a forged unsubscribe changes nothing")
        owner_mail = f.to(f.owner)
        check(len(owner_mail) == 1, "the owner received exactly one mail")
        confirm = owner_mail[0][3]
        token = TOKEN.search(confirm["Subject"] + body_of(confirm))
        check(token is not None, "and it is the confirmation request with a token")
        forger_mail = f.to(f.forger)
        check(len(forger_mail) == 1, "the forger received one acknowledgement")
        text = forger_mail[0][2].decode("utf-8", "replace")
        check("alice" not in body_of(forger_mail[0][3]).lower() and "Alice Chan" not in text
              and not TOKEN.search(text), "which names no account, no owner and no token")

        # 2. The owner presses reply: our subject after "Re:", our text quoted below.
        quoted = "\n".join("> " + line for line in body_of(confirm).splitlines())
        f.send(f.owner, "Re: " + confirm["Subject"], "Yes, that was me.\n\n" + quoted,
               extra=f"In-Reply-To: {confirm['Message-ID']}\n")
        sub = f.subscription()
        check(sub["ends_on"] is not None and sub["status"] in ("cancelling", "ended"),
              f"the confirmed request is carried out: {sub}")
        cancelled = f.to(f.owner)
        check(len(cancelled) == 2, "the owner got the cancellation notice")
        ends_on = sub["ends_on"]

        # 3. A replay of the same token does nothing.
        f.send(f.owner, "Re: " + confirm["Subject"], "again")
        check(f.subscription()["ends_on"] == ends_on, "a replayed token changes nothing")

        # 4. KEEP with the token from the cancellation notice, before the end date (the
        #    mails arrive now, so the period is the current one), restores it.
        notice = cancelled[1][3]
        keep = TOKEN.search(notice["Subject"] + body_of(notice))
        check(keep is not None, "the cancellation notice offers KEEP with a token")
        f.send(f.owner, "Re: " + notice["Subject"], "KEEP\n\n> " + body_of(notice).replace("\n", "\n> "))
        after = f.subscription()
        check(after["status"] == "active" and after["ends_on"] is None,
              f"KEEP restores the subscription: {after}")

        # 5. An access request from an unregistered address.
        before = {m[2] for m in servers.smtp_messages()}
        f.send(f.forger, "Data access request", "Please send me a copy of my personal data. Username: alice")
        for _, rcpts, raw, _ in servers.smtp_messages():
            if raw in before:
                continue
            text = raw.decode("utf-8", "replace")
            if rcpts != [f.owner]:
                check(PHONE not in text and ADDRESS not in text,
                      f"no personal data to {rcpts[0].split('@')[0][:3]}***")
        new_owner = [m for m in f.to(f.owner) if m[2] not in before]
        check(len(new_owner) == 1 and PHONE not in new_owner[0][2].decode("utf-8", "replace"),
              "the owner is asked to confirm, and no data is sent before that")
        access_token = TOKEN.search(new_owner[0][3]["Subject"])
        f.send(f.owner, "Re: " + new_owner[0][3]["Subject"], "yes")
        data = [m for m in f.to(f.owner) if m[2] not in before]
        check(any(PHONE in body_of(m[3]) for m in data), "after confirmation the data goes to the registered address")
        check(access_token is not None, "access confirmation carried a token")


if __name__ == "__main__":
    main()
