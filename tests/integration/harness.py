"""Helpers for mailreqd integration tests against real Dovecot and a recording SMTP server.

Standard library only; run with Debian's /usr/bin/python3 (the SMTP server it may start
needs python3-aiosmtpd). Typical test:

    from harness import Servers, run_mailreqd, mailreqd_binary

    with Servers.connect() as servers:          # the ctest fixture, or private servers
        user, password_file = servers.new_mailbox_user()
        servers.append(user, "INBOX", raw_bytes, date=datetime(..., tzinfo=...))
        config = servers.write_config(tmpdir + "/mailreqd.yaml", user=user,
                                      password_file=password_file)
        rc, out, err = run_mailreqd(mailreqd_binary(), "--config", config, "--once")
        assert len(servers.list_folder(user, "Processed")) == 1
        replies = servers.smtp_messages(rcpt="customer@example.com")

Isolation: the servers are shared by all tests of a ctest run, possibly in parallel. Give
every test its own mailbox user (new_mailbox_user) and its own recipient addresses. A test
that injects SMTP faults or needs an empty spool should start its own SMTP server
(new_smtp_server), which is cheap (~0.3 s) and stopped at the end of the `with` block.
"""

import contextlib
import datetime
import email
import email.message
import email.policy
import imaplib
import itertools
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS_SCRIPTS = os.path.normpath(os.path.join(HERE, "..", "servers"))
ENV_VAR = "MAILREQD_TEST_SERVERS"
SKIP = 77  # exit code ctest treats as "skipped" (SKIP_RETURN_CODE)


def skip(reason: str) -> None:
    """Ends the test as skipped (ctest SKIP_RETURN_CODE 77)."""
    print(f"SKIPPED: {reason}", file=sys.stderr)
    sys.exit(SKIP)


def read_env(path: str) -> dict:
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                env[key] = value
    return env


def _script(name: str, *args: str) -> str:
    """Runs tests/servers/NAME with ARGS; returns stdout, raises with stderr on failure."""
    proc = subprocess.run(["bash", os.path.join(SERVERS_SCRIPTS, name), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def _quote(mailbox: str) -> str:
    """IMAP astring: quote names that are not plain atoms (RFC 3501 §9)."""
    if re.fullmatch(r"[A-Za-z0-9._/+-]+", mailbox):
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_atomically(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def wait_until(predicate, timeout: float = 10, interval: float = 0.05, what: str = "condition"):
    """Polls predicate() until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class SmtpMessage(NamedTuple):
    mail_from: str
    rcpts: list
    raw: bytes
    message: email.message.Message


class SmtpServer:
    """One recording SMTP server (tests/servers/smtp_server.py) and its spool."""

    def __init__(self, env: dict, directory: Optional[str] = None, owned: bool = False):
        self.host = env.get("SMTP_HOST", "127.0.0.1")
        self.port = int(env["SMTP_PORT"])
        self.smtps_port = int(env["SMTPS_PORT"]) if env.get("SMTPS_PORT") else None
        self.spool = env["SMTP_SPOOL"]
        self.control_file = env["SMTP_CONTROL"]
        self.ca_file = env.get("CA_FILE")
        self.directory = directory
        self.owned = owned  # started by this harness: stop() stops it

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def smtps_url(self) -> str:
        return f"smtps://localhost:{self.smtps_port}"

    def index(self) -> list:
        """Metadata of accepted messages, oldest first: dicts with id, file, mail_from,
        rcpt_tos, time, size, tls, auth, mail_options."""
        try:
            with open(os.path.join(self.spool, "index.jsonl"), encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def messages(self, rcpt: Optional[str] = None) -> list:
        """Accepted messages (oldest first), only those for RCPT if given."""
        result = []
        for entry in self.index():
            if rcpt is not None and rcpt.lower() not in (r.lower() for r in entry["rcpt_tos"]):
                continue
            try:
                with open(os.path.join(self.spool, entry["file"]), "rb") as f:
                    raw = f.read()
            except FileNotFoundError:  # cleared meanwhile
                continue
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            result.append(SmtpMessage(entry["mail_from"], entry["rcpt_tos"], raw, parsed))
        return result

    def wait_for_messages(self, count: int, rcpt: Optional[str] = None, timeout: float = 10) -> list:
        return wait_until(lambda: (lambda m: m if len(m) >= count else None)(self.messages(rcpt)),
                          timeout, what=f"{count} SMTP message(s)")

    def control(self, settings: Optional[dict]) -> None:
        """Sets fault injection (see smtp_server.py); None or {} restores normal service.
        The file is replaced atomically, which also restarts any fail_next count."""
        if not settings:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.control_file)
            return
        _write_atomically(self.control_file, json.dumps(settings).encode())

    def clear(self) -> None:
        """Forgets all received messages and fault injection."""
        self.control(None)
        for name in os.listdir(self.spool):
            if name.endswith(".eml") or name == "index.jsonl":
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.spool, name))

    def restart(self) -> None:
        """Stops and starts the server on the same ports (spool and control are kept)."""
        _script("smtp.sh", "restart", self.directory)

    def stop(self) -> None:
        if self.owned and self.directory:
            _script("smtp.sh", "stop", self.directory)
            self.owned = False


class Servers:
    """The Dovecot + SMTP pair of one servers directory (its ports.env)."""

    def __init__(self, directory: str):
        self.dir = os.path.abspath(directory)
        self.env = read_env(os.path.join(self.dir, "ports.env"))
        e = self.env
        self.imap_host = e.get("IMAP_HOST", "127.0.0.1")
        self.imap_port = int(e["IMAP_PORT"])
        self.imaps_port = int(e["IMAPS_PORT"])
        self.user = e["IMAP_USER"]
        self.password_file = e["IMAP_PASSWORD_FILE"]
        self.ca_file = e["CA_FILE"]
        self.smtp = SmtpServer(e, self.dir)
        self._private = []
        self._counter = itertools.count(1)

    # --- lifecycle ------------------------------------------------------------------------
    @classmethod
    def from_env(cls) -> "Servers":
        """The servers of the ctest fixture ($MAILREQD_TEST_SERVERS)."""
        directory = os.environ.get(ENV_VAR)
        if not directory:
            raise RuntimeError(f"{ENV_VAR} is not set (run under ctest, or use Servers.connect())")
        return cls(directory)

    @classmethod
    @contextlib.contextmanager
    def start(cls, directory: Optional[str] = None):
        """Starts private servers in DIRECTORY (a new temp dir if None) and always stops
        them at the end. A temp dir is removed afterwards unless MAILREQD_KEEP_SERVERS=1."""
        made = directory is None
        if made:
            directory = tempfile.mkdtemp(prefix="mailreqd-servers-")
        try:
            _script("servers.sh", "start", directory)
            servers = cls(directory)
            try:
                yield servers
            finally:
                servers.close()
        finally:
            _script("servers.sh", "stop", directory)
            if made and os.environ.get("MAILREQD_KEEP_SERVERS") != "1":
                shutil.rmtree(directory, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def connect(cls):
        """The fixture's servers when $MAILREQD_TEST_SERVERS is set, else private ones."""
        if os.environ.get(ENV_VAR):
            servers = cls.from_env()
            try:
                yield servers
            finally:
                servers.close()
        else:
            with cls.start() as servers:
                yield servers

    def close(self) -> None:
        """Stops SMTP servers started with new_smtp_server()."""
        while self._private:
            self._private.pop().stop()

    def restart_dovecot(self) -> None:
        """Stops and starts Dovecot on the same ports (mail and users are kept)."""
        _script("dovecot.sh", "restart", self.dir)

    # --- mailbox users and IMAP ---------------------------------------------------------
    def new_mailbox_user(self, folders=("Processed", "Needs-Review"), name: Optional[str] = None) -> tuple:
        """A fresh IMAP user with an empty INBOX plus FOLDERS; returns (user, password_file).
        The name defaults to the test script's name plus pid and a counter."""
        if name is None:
            script = os.path.basename(sys.argv[0] or "").removesuffix(".py")
            script = re.sub(r"[^A-Za-z0-9_-]", "", script).strip("-_")[:30] or "t"
            name = f"{script}-{os.getpid()}-{next(self._counter)}"
        user, password_file = _script("dovecot.sh", "adduser", self.dir, name).split()
        for folder in folders:
            self.create_folder(user, folder)
        return user, password_file

    def password(self, user: Optional[str] = None) -> str:
        user = user or self.user
        path = self.password_file if user == self.user else os.path.join(self.dir, "users", f"{user}.password")
        with open(path, encoding="utf-8") as f:
            return f.read().strip()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def imap(self, user: Optional[str] = None, tls: bool = False) -> imaplib.IMAP4:
        """A logged-in imaplib client; use it in a `with` block (logs out at the end)."""
        if tls:
            client = imaplib.IMAP4_SSL("localhost", self.imaps_port, ssl_context=self.ssl_context(), timeout=30)
        else:
            client = imaplib.IMAP4(self.imap_host, self.imap_port, timeout=30)
        try:
            client.login(user or self.user, self.password(user))
        except Exception:
            client.shutdown()
            raise
        return client

    def imap_url(self, folder: str = "INBOX", tls: bool = False) -> str:
        if tls:
            return f"imaps://localhost:{self.imaps_port}/{folder}"
        return f"imap://{self.imap_host}:{self.imap_port}/{folder}"

    @staticmethod
    def _check(what, result):
        typ, data = result
        if typ != "OK":
            raise RuntimeError(f"IMAP {what}: {typ} {data}")
        return data

    def create_folder(self, user: str, folder: str) -> None:
        with self.imap(user) as c:
            self._check(f"CREATE {folder}", c.create(_quote(folder)))
            c.subscribe(_quote(folder))

    def folders(self, user: str) -> list:
        with self.imap(user) as c:
            data = self._check("LIST", c.list())
        names = []
        for line in data:
            m = re.match(rb'\((?P<flags>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.*)$', line)
            if m:
                names.append(m.group("name").decode().strip('"'))
        return names

    def append(self, user: str, folder: str, raw: bytes, date=None, flags: str = None) -> Optional[int]:
        """APPENDs RAW to FOLDER; DATE (aware datetime, epoch seconds, or an IMAP date
        string) becomes the INTERNALDATE. Returns the new UID (UIDPLUS)."""
        if isinstance(date, datetime.datetime) and date.tzinfo is None:
            raise ValueError("append: date needs a timezone (tzinfo)")
        internal = imaplib.Time2Internaldate(date) if date is not None else None
        with self.imap(user) as c:
            data = self._check(f"APPEND {folder}", c.append(_quote(folder), flags, internal, raw))
        m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        return int(m.group(1)) if m else None

    def _fetch_all(self, user: str, folder: str, items: str) -> list:
        with self.imap(user) as c:
            self._check(f"EXAMINE {folder}", c.select(_quote(folder), readonly=True))
            uids = self._check("UID SEARCH", c.uid("SEARCH", None, "ALL"))[0].split()
            result = []
            for uid in uids:
                data = self._check(f"UID FETCH {uid}", c.uid("FETCH", uid, items))
                result.append((int(uid), data))
            return result

    def list_folder(self, user: str, folder: str) -> list:
        """Raw messages in FOLDER, by UID; does not set \\Seen."""
        return [data[0][1] for _, data in self._fetch_all(user, folder, "(BODY.PEEK[])")]

    def folder_flags(self, user: str, folder: str) -> dict:
        """{uid: set of flags} for FOLDER, without \\Recent."""
        result = {}
        for uid, data in self._fetch_all(user, folder, "(FLAGS)"):
            line = data[0] if isinstance(data[0], bytes) else data[0][0]
            m = re.search(rb"FLAGS \(([^)]*)\)", line)
            flags = set(m.group(1).decode().split()) if m else set()
            result[uid] = flags - {"\\Recent"}  # per-session, not state
        return result

    def count(self, user: str, folder: str) -> int:
        with self.imap(user) as c:
            data = self._check(f"STATUS {folder}", c.status(_quote(folder), "(MESSAGES)"))
        return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))

    # --- SMTP -------------------------------------------------------------------------------
    def smtp_messages(self, rcpt: Optional[str] = None) -> list:
        """Messages the shared SMTP server accepted: [SmtpMessage(mail_from, rcpts, raw,
        message)], optionally only those for RCPT."""
        return self.smtp.messages(rcpt)

    def smtp_control(self, settings: Optional[dict]) -> None:
        """Fault injection on the shared SMTP server: affects parallel tests too; prefer
        new_smtp_server() for that."""
        self.smtp.control(settings)

    def clear_smtp(self) -> None:
        self.smtp.clear()

    def new_smtp_server(self, *options: str) -> SmtpServer:
        """Starts a private SMTP server (OPTIONS go to smtp_server.py, e.g. "--auth",
        "bot:pw", "--require-tls"); stopped by close() / the end of the `with` block."""
        directory = os.path.join(self.dir, "private-smtp", f"{os.getpid()}-{next(self._counter)}")
        os.makedirs(directory)
        # Share the CA so one ca_file verifies every server.
        os.symlink(os.path.join(self.dir, "tls"), os.path.join(directory, "tls"))
        _script("smtp.sh", "start", directory, *options)
        server = SmtpServer(read_env(os.path.join(directory, "ports.env")), directory, owned=True)
        self._private.append(server)
        return server

    # --- daemon configuration ---------------------------------------------------------------
    def config(self, user: Optional[str] = None, password_file: Optional[str] = None,
               tls: bool = False, smtp: Optional[SmtpServer] = None, smtp_tls: bool = False,
               database: str = "mailreqd.db", smtp_options: Optional[dict] = None,
               **overrides) -> dict:
        """The mailreqd configuration as a dict (see write_config)."""
        user = user or self.user
        if password_file is None:
            password_file = self.password_file if user == self.user else os.path.join(self.dir, "users", f"{user}.password")
        smtp = smtp or self.smtp
        mailbox = {
            "url": self.imap_url("INBOX", tls),
            "username": user,
            "password_file": password_file,
            "processed_folder": "Processed",
            "review_folder": "Needs-Review",
        }
        if tls:
            mailbox["ca_file"] = self.ca_file
        smtp_section = {
            "url": smtp.smtps_url if smtp_tls else smtp.url,
            "from": "Customer Service <support@shop.example>",
        }
        # The test server offers STARTTLS with a test CA: trust it, as an operator would.
        smtp_section["ca_file"] = smtp.ca_file
        smtp_section.update(smtp_options or {})
        config = {
            "mailbox": mailbox,
            "smtp": smtp_section,
            "database": database,
            "timezone": "Asia/Hong_Kong",
            "services": [
                {"name": "streaming", "period": "monthly",
                 "aliases": ["streaming service", "music streaming"]},
                {"name": "library", "period": "yearly", "aliases": ["music library"]},
            ],
        }
        return _merge(config, overrides)

    def write_config(self, path: str, **kwargs) -> str:
        """Writes a mailreqd YAML config pointing at these servers; returns PATH.

        Keywords: user, password_file (default: the fixture's "support" user), tls=True
        (imaps:// plus mailbox.ca_file), smtp=SmtpServer (default: the shared one),
        smtp_tls=True (smtps:// plus smtp.ca_file), smtp_options={...} (more smtp keys), database (default: mailreqd.db next to
        PATH). Any other keyword overrides a top-level key; dicts merge recursively and
        None deletes: write_config(p, mailbox={"review_folder": "Review"}, timezone="UTC").
        """
        path = os.path.abspath(path)
        kwargs.setdefault("database", os.path.join(os.path.dirname(path), "mailreqd.db"))
        text = to_yaml(self.config(**kwargs))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


def _merge(base: dict, overrides: dict) -> dict:
    result = dict(base)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(value), ensure_ascii=False)


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (enough for mailreqd configs)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list) and item and any(isinstance(x, (dict, list)) for x in item):
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: [{', '.join(_scalar(x) for x in item)}]")
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return "\n".join(lines) + ("\n" if indent == 0 else "")


# --- the daemon ---------------------------------------------------------------------------
def mailreqd_binary() -> str:
    """The daemon under test ($MAILREQD_BINARY, set by CMake); skips the test if it is not
    built."""
    path = os.environ.get("MAILREQD_BINARY", "")
    if not path or not os.access(path, os.X_OK):
        skip(f"mailreqd binary not built ({path or 'MAILREQD_BINARY unset'})")
    return path


def run_mailreqd(binary: Optional[str], *args: str, timeout: float = 60, env: Optional[dict] = None,
                 input: Optional[bytes] = None, cwd: Optional[str] = None) -> tuple:
    """Runs the daemon (BINARY or $MAILREQD_BINARY) and returns (rc, stdout, stderr) as
    text. On timeout the whole process group is killed and rc is None."""
    binary = binary or mailreqd_binary()
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([binary, *args], stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd,
                            start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
        err += f"\n[harness: killed after {timeout} s]".encode()
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def main(argv=None) -> int:
    """Command line for the demo and benchmarks:
      harness.py write-config SERVERS_DIR CONFIG_PATH [--tls] [--smtp-tls]
    writes a mailreqd config for the "support" user of servers started with
    tests/servers/servers.sh start SERVERS_DIR."""
    import argparse
    p = argparse.ArgumentParser(description="mailreqd integration-test helpers")
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write-config", help="write a mailreqd YAML config for running servers")
    w.add_argument("servers_dir")
    w.add_argument("config_path")
    w.add_argument("--tls", action="store_true", help="imaps:// with mailbox.ca_file")
    w.add_argument("--smtp-tls", action="store_true", help="smtps:// with smtp.ca_file")
    w.add_argument("--database", help="SQLite path (default: mailreqd.db next to the config)")
    args = p.parse_args(argv)
    servers = Servers(args.servers_dir)
    kwargs = {"tls": args.tls, "smtp_tls": args.smtp_tls}
    if args.database:
        kwargs["database"] = os.path.abspath(args.database)
    print(servers.write_config(args.config_path, **kwargs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
