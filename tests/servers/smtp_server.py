#!/usr/bin/python3
"""A recording SMTP server for tests, with fault injection (aiosmtpd; Debian's python3).

Listens on 127.0.0.1 only. Every accepted message is stored as SPOOL/NNNNNN.eml (the raw
bytes after dot-unstuffing, CRLF kept) and one JSON line is appended to SPOOL/index.jsonl:
  {"id": 1, "file": "000001.eml", "mail_from": "...", "rcpt_tos": [...], "time": "...Z",
   "size": 123, "tls": false, "auth": null, "mail_options": [...]}
The .eml file is complete before its index line is written, so readers can trust the index.

Fault injection: --control FILE holds a JSON object, read again on every command, so a
test changes behaviour by rewriting the file (write a temp file and rename it). Keys:
  {"mail": "451"}                       answer every MAIL FROM with this
  {"rcpt": "550 5.1.1 no such user"}    answer every RCPT TO with this
  {"data": "421"}                       answer the end of DATA with this (message dropped)
  {"reject_rcpt": ["x@y"], "reject_rcpt_code": "550 ..."}  refuse only these recipients
  {"fail_next": 3, "code": "451 4.3.0 try later", "stage": "data"}
                                        the next 3 commands at stage (mail|rcpt|data,
                                        default data) fail, then normal service; the count
                                        restarts whenever the control file is replaced
  {"delay": {"data": 5}}                sleep before answering (mail|rcpt|data), seconds
  {"drop": "data"}                      close the connection instead of answering
A bare code gets a default text ("451" -> "451 4.3.0 Injected temporary failure").
Any 421 reply closes the connection afterwards, as RFC 5321 §3.8 says a server does.
A missing or empty control file means normal service; a broken one is reported on stderr
and ignored.

PIPELINING (RFC 2920) is offered, as real servers do, unless --no-pipelining is given or
MAILREQD_TEST_SMTP_NO_PIPELINING=1 is in the environment (the daemon then sends through
libcurl's SMTP transfers instead of its own pipelined transactions).

Quiet: nothing is printed per message; errors go to stderr. SIGTERM/SIGINT stop it.
"""

import argparse
import asyncio
import datetime
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"
DEFAULT_TEXT = {
    "4": "4.3.0 Injected temporary failure",
    "5": "5.7.1 Injected permanent failure",
}
STAGES = ("mail", "rcpt", "data")

log = logging.getLogger("smtp_server")


def normalize_reply(code) -> str:
    text = str(code).strip()
    if len(text) == 3 and text.isdigit():
        if text == "421":
            return "421 4.3.2 Injected shutdown, closing connection"
        return f"{text} {DEFAULT_TEXT.get(text[0], 'Injected reply')}"
    return text


def write_atomically(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Control:
    """The fault-injection file, re-read on every command."""

    def __init__(self, path):
        self.path = path
        self._signature = None
        self._failures_used = 0

    def read(self) -> dict:
        if not self.path:
            return {}
        try:
            st = os.stat(self.path)
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            self._signature = None
            return {}
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        if signature != self._signature:
            self._signature = signature
            self._failures_used = 0
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            return value
        except ValueError as e:
            log.error("ignoring control file %s: %s", self.path, e)
            return {}

    def injected_reply(self, ctl: dict, stage: str, rcpt: str = None):
        """The reply to force at this stage, or None for normal service."""
        if ctl.get(stage):
            return normalize_reply(ctl[stage])
        if stage == "rcpt" and rcpt is not None:
            rejected = {a.lower() for a in ctl.get("reject_rcpt", [])}
            if rcpt.lower() in rejected:
                return normalize_reply(ctl.get("reject_rcpt_code", "550 5.1.1 Injected: no such recipient"))
        if ctl.get("fail_next") and ctl.get("stage", "data") == stage:
            if self._failures_used < int(ctl["fail_next"]):
                self._failures_used += 1
                return normalize_reply(ctl.get("code", "451"))
        return None


class Spool:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._next = 1 + max(
            (int(n[:-4]) for n in os.listdir(directory) if n.endswith(".eml") and n[:-4].isdigit()),
            default=0)

    def store(self, envelope, session, tls: bool) -> int:
        while os.path.exists(os.path.join(self.directory, f"{self._next:06d}.eml")):
            self._next += 1
        seq = self._next
        self._next += 1
        name = f"{seq:06d}.eml"
        content = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        write_atomically(os.path.join(self.directory, name), content)
        auth = session.auth_data
        if isinstance(auth, LoginPassword):
            auth = auth.login.decode("utf-8", "replace")
        entry = {
            "id": seq,
            "file": name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "size": len(content),
            "tls": tls,
            "auth": auth if isinstance(auth, str) else None,
            "mail_options": list(envelope.mail_options),
        }
        with open(os.path.join(self.directory, "index.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return seq


class Handler:
    def __init__(self, spool: Spool, control: Control, advertise_auth: bool, pipelining: bool):
        self.spool = spool
        self.control = control
        self.advertise_auth = advertise_auth
        self.pipelining = pipelining

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.advertise_auth:
            # aiosmtpd always offers AUTH (failing every login); without --auth we
            # want a server that does not offer it, like a plain relay.
            responses = [r for r in responses if not r.startswith("250-AUTH")]
        if self.pipelining:
            # aiosmtpd reads pipelined commands correctly but does not say so (RFC 2920);
            # Postfix, Exim and the big providers all do.
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def _inject(self, server, stage, rcpt=None):
        """Returns a reply string to send instead of the normal one, or None."""
        ctl = self.control.read()
        delay = (ctl.get("delay") or {}).get(stage)
        if delay:
            await asyncio.sleep(float(delay))
        if ctl.get("drop") == stage:
            server.transport.abort()
            return "421 4.3.2 dropped"  # never reaches the client
        reply = self.control.injected_reply(ctl, stage, rcpt)
        if reply and reply.startswith("421"):
            # Runs after aiosmtpd has written the reply (same task, no await in between).
            server.loop.call_soon(server.transport.close)
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = await self._inject(server, "mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = await self._inject(server, "rcpt", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await self._inject(server, "data")
        if reply:
            return reply
        try:
            # session.ssl is set by STARTTLS only; SMTPS shows on the transport.
            tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
            seq = self.spool.store(envelope, session, tls)
        except OSError as e:
            log.error("cannot store message: %s", e)
            return "451 4.3.0 Spool write failed"
        return f"250 2.0.0 OK queued as {seq:06d}"


def make_authenticator(pairs):
    accounts = {}
    for pair in pairs:
        user, sep, password = pair.partition(":")
        if not sep:
            sys.exit(f"--auth wants user:password, got {pair!r}")
        accounts[user.encode()] = password.encode()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and accounts.get(auth_data.login) == auth_data.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spool", required=True, help="directory for NNNNNN.eml and index.jsonl")
    p.add_argument("--port", type=int, default=0, help="SMTP port on 127.0.0.1 (0: pick a free one)")
    p.add_argument("--port-file", help="write the SMTP port here once listening")
    p.add_argument("--smtps-port", type=int, help="also listen for SMTPS (implicit TLS); 0: free port")
    p.add_argument("--smtps-port-file", help="write the SMTPS port here (implies --smtps-port 0)")
    p.add_argument("--control", help="JSON fault-injection file, read on every command")
    p.add_argument("--tls-cert", help="certificate chain (PEM): offer STARTTLS, enable SMTPS")
    p.add_argument("--tls-key", help="private key (PEM) for --tls-cert")
    p.add_argument("--require-tls", action="store_true", help="refuse MAIL before STARTTLS")
    p.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD",
                   help="accept AUTH PLAIN/LOGIN with these credentials (repeatable)")
    p.add_argument("--auth-required", action="store_true", help="refuse MAIL before AUTH")
    p.add_argument("--max-size", type=int, default=32 * 1024 * 1024, help="SIZE limit in bytes")
    p.add_argument("--hostname", default="smtp.test", help="name in the greeting")
    p.add_argument("--no-pipelining", action="store_true",
                   help="do not offer PIPELINING (also: MAILREQD_TEST_SMTP_NO_PIPELINING=1)")
    p.add_argument("--pid-file")
    args = p.parse_args(argv)
    if args.smtps_port_file and args.smtps_port is None:
        args.smtps_port = 0
    if (args.require_tls or args.smtps_port is not None) and not args.tls_cert:
        p.error("--require-tls and SMTPS need --tls-cert/--tls-key")
    if args.auth_required and not args.auth:
        p.error("--auth-required needs --auth")
    return args


async def serve(args):
    loop = asyncio.get_running_loop()
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    pipelining = not (args.no_pipelining or os.environ.get("MAILREQD_TEST_SMTP_NO_PIPELINING") == "1")
    handler = Handler(Spool(args.spool), Control(args.control), advertise_auth=bool(args.auth),
                      pipelining=pipelining)
    authenticator = make_authenticator(args.auth) if args.auth else None

    def factory(starttls):
        def make():
            return SMTP(
                handler,
                hostname=args.hostname,
                data_size_limit=args.max_size,
                enable_SMTPUTF8=True,
                decode_data=False,
                tls_context=tls if starttls else None,
                require_starttls=bool(starttls and args.require_tls),
                authenticator=authenticator,
                auth_required=args.auth_required,
                # Loopback tests may authenticate without TLS.
                auth_require_tls=False,
                loop=loop,
            )
        return make

    servers = []
    smtp = await loop.create_server(factory(True), host=LOOPBACK, port=args.port)
    servers.append(smtp)
    if args.port_file:
        write_atomically(args.port_file, b"%d\n" % smtp.sockets[0].getsockname()[1])
    if args.smtps_port is not None:
        smtps = await loop.create_server(factory(False), host=LOOPBACK, port=args.smtps_port, ssl=tls)
        servers.append(smtps)
        if args.smtps_port_file:
            write_atomically(args.smtps_port_file, b"%d\n" % smtps.sockets[0].getsockname()[1])
    if args.pid_file:
        write_atomically(args.pid_file, b"%d\n" % os.getpid())

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    for s in servers:
        await s.wait_closed()


def main(argv=None):
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="smtp_server: %(levelname)s %(name)s: %(message)s")
    # AUTH without TLS is deliberate here (loopback tests); aiosmtpd's warnings about it
    # and about its own deprecated login_data would only add noise.
    warnings.filterwarnings("ignore", module="aiosmtpd")
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    args = parse_args(argv)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
