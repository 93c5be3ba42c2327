"""Replies over every kind of SMTP session the daemon opens, against the real (recording)
SMTP server: STARTTLS required with AUTH required, pipelined (PIPELINING offered) and
not (libcurl's own transfers), and SMTPS with AUTH, pipelined. Each time three
unsubscribes get their three replies, every one received over TLS and authenticated,
and the daemon's log says which way it sent. Then, with a CA that did not sign the
server's certificate, nothing is sent and the log says what libcurl found wrong."""
import os
import subprocess
import tempfile

from engine_common import check, finish
from harness import Servers, mailreqd_binary, run_mailreqd

N = 3

CUSTOMERS_HEADER = "username,email,name,postal_address,telephone,fax,marketing_opt_in\n"

UNSUBSCRIBE = """From: Customer {n} <{addr}>
To: Customer Service <support@shop.example>
Subject: unsubscribe
Message-ID: <{mid}>
Content-Type: text/plain; charset=utf-8

Please cancel.
Username: {user}
Service: streaming
"""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def one_case(servers, binary, tmp, name, smtp_options, smtps, pipelining, ca_file=None):
    """Returns the run's exit status and log; checks the replies unless ca_file is given."""
    smtp = servers.new_smtp_server("--auth", "bot:secret", "--auth-required", *smtp_options)
    user, password_file = servers.new_mailbox_user()
    pw = write(os.path.join(tmp, f"{name}-smtp-password"), "secret\n")
    os.chmod(pw, 0o600)
    config = servers.write_config(
        os.path.join(tmp, f"{name}.yaml"), user=user, password_file=password_file, smtp=smtp,
        smtp_tls=smtps, database=os.path.join(tmp, f"{name}.db"),
        smtp_options={"username": "bot", "password_file": pw, "require_tls": True,
                      **({"ca_file": ca_file} if ca_file else {})})
    users = [f"{name}{n}{user}".replace("-", "") for n in range(N)]
    addrs = [f"c{n}-{user}@example.com" for n in range(N)]
    customers = CUSTOMERS_HEADER + "".join(f"{u},{a},Customer,,,,false\n" for u, a in zip(users, addrs))
    subscriptions = "username,service,anchor\n" + "".join(f"{u},streaming,2026-01-31\n" for u in users)
    for command, text in (("import-customers", customers), ("import-subscriptions", subscriptions)):
        rc, out, err = run_mailreqd(binary, command, write(os.path.join(tmp, f"{name}-{command}.csv"), text),
                                    "--config", config)
        check(rc == 0, f"({name}) {command}: {out.strip()} {err.strip()}")
    for n in range(N):
        mail = UNSUBSCRIBE.format(n=n, addr=addrs[n], user=users[n], mid=f"{name}-{n}-{user}@example.com")
        servers.append(user, "INBOX", mail.replace("\n", "\r\n").encode())

    # With a wrong CA, --once retries SMTP for a minute before it exits 75 (what
    # engine_faults_test checks for a server that is down); ten seconds show the error.
    rc, out, err = run_mailreqd(binary, "run", "--config", config, "--once",
                                timeout=10 if ca_file else 60)
    if ca_file:
        check(not smtp.index(), f"({name}) nothing reached the server")
        return rc, err
    check(rc == 0, f"({name}) run --once exits 0 (got {rc}); log ends: {err.strip()[-300:]}")
    index = smtp.index()
    got = sorted(r for e in index for r in e["rcpt_tos"])
    check(got == sorted(addrs), f"({name}) one reply to each of the {N} senders (got {len(got)})")
    check(all(e["tls"] for e in index), f"({name}) every reply came over TLS")
    check(all(e["auth"] == "bot" for e in index), f"({name}) every reply came authenticated as bot")
    way = "yes" if pipelining else "no"
    check(f"smtp-connected pipelining={way}" in err or f'"pipelining":"{way}"' in err,
          f"({name}) the daemon says it sent with pipelining={way}")
    return rc, err


def wrong_ca(tmp):
    """A CA of its own, which signed nothing the test servers present."""
    path = os.path.join(tmp, "wrong-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=Not The Test CA", "-keyout", os.path.join(tmp, "wrong-ca.key"),
                    "-out", path], check=True, capture_output=True)
    return path


def main():
    binary = mailreqd_binary()
    with Servers.connect() as servers, tempfile.TemporaryDirectory() as tmp:
        one_case(servers, binary, tmp, "starttls", ["--require-tls"], smtps=False, pipelining=True)
        one_case(servers, binary, tmp, "starttlsplain", ["--require-tls", "--no-pipelining"],
                 smtps=False, pipelining=False)
        one_case(servers, binary, tmp, "smtps", [], smtps=True, pipelining=True)
        rc, err = one_case(servers, binary, tmp, "wrongca", ["--require-tls"], smtps=False,
                           pipelining=True, ca_file=wrong_ca(tmp))
        # libcurl's own words (CURLOPT_ERRORBUFFER), not only its error code's text ("SSL
        # peer certificate or SSH remote key was not OK"): the operator sees what to fix.
        check("SSL certificate problem" in err,
              f"(wrongca) the log says what is wrong with the certificate: {err.strip()[-400:]}")
    finish()


if __name__ == "__main__":
    main()
