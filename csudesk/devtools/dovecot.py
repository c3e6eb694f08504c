"""A throwaway Dovecot IMAP server (Debian's dovecot-imapd) in a temporary folder.

`dovecot -F -c <conf>` runs in the foreground with everything under one folder: its runtime
sockets, its log and the users' Maildirs. It listens on 127.0.0.1
only: IMAP on `port` (plain login allowed, and STARTTLS) and IMAPS on `tls_port`, both with a
self-signed certificate made by openssl for 127.0.0.1 (`cert_path` is its CA file). Any user
name logs in with the server's `password`, each with a Maildir of its own made at its first
login: a test takes a new user name for an empty mailbox.

Run as root, Dovecot refuses to run its login processes as root and to give mail access to
uid 0: the login processes then run as `dovenull`, the others and the mail as `dovecot` (the
users Debian's package creates), and the folder is opened to them. Run as anyone else,
everything runs as that user.
"""

import imaplib
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

DOVECOT = os.environ.get("CSUDESK_DOVECOT", "/usr/sbin/dovecot")

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
auth_failure_delay = 0
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot server; `start()` returns when it answers, `stop()` removes its folder."""

    host = "127.0.0.1"

    def __init__(self):
        self.root: Path | None = None
        self.port = 0
        self.tls_port = 0
        self.process: subprocess.Popen | None = None
        self.password = secrets.token_hex(8)

    @property
    def cert_path(self) -> str:
        return str(self.root / "cert.pem")

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 15.0) -> "Dovecot":
        if not os.path.exists(DOVECOT):
            raise RuntimeError(
                f"{DOVECOT} is missing: run `make imap` (Debian package dovecot-imapd)."
            )
        self.root = Path(tempfile.mkdtemp(prefix="csudesk-dovecot-"))
        (self.root / "mail").mkdir()
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("dovecot")
            internal_user = internal_group = "dovecot"
            login_user = "dovenull"
            # The mail processes (not root) own the Maildirs and reach them through the folder.
            self.root.chmod(0o755)
            os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        else:
            mail_user = pwd.getpwuid(os.getuid())
            internal_user = login_user = mail_user.pw_name
            internal_group = str(mail_user.pw_gid)
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.root / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )
        self.port, self.tls_port = free_port(), free_port()
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                tls_port=self.tls_port,
                uid=mail_user.pw_uid,
                gid=mail_user.pw_gid,
                internal_user=internal_user,
                internal_group=internal_group,
                login_user=login_user,
                password=self.password,
            )
        )
        with open(self.root / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        errors = (self.root / "stderr.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"Dovecot did not start:\n{errors}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        client.login(user, self.password)
        return client

    def append(self, user: str, messages: Iterable[bytes], folder: str = "INBOX") -> list[int]:
        """APPEND each raw message to the user's folder; their UIDs, in order."""
        uids = []
        client = self.connect(user)
        try:
            if folder != "INBOX":
                client.create(folder)  # answers NO when it exists already: fine
            for raw in messages:
                status, data = client.append(folder, None, None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")
                # [APPENDUID <uidvalidity> <uid>] (RFC 4315)
                uids.append(int(data[0].split(b"]")[0].split()[-1]))
        finally:
            client.logout()
        return uids

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cert_path)

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
