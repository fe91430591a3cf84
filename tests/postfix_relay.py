"""A real Postfix on 127.0.0.1, relaying everything to a RecordingSmtpServer: so the client's
wire features (PIPELINING, CHUNKING/BDAT, STARTTLS) meet a real MTA, not only our server.

The instance is private: its own config_directory, queue_directory and data_directory in
a temporary folder, smtpd on a free port with a trustme certificate, the smtp client
relaying to the recording server, the log in a file (maillog_file). Debian's postfix
package provides the binaries; starting an instance needs root.

    with PostfixRelay(target=server) as relay:
        settings = relay.settings()  # STARTTLS, verified against relay.ca_file
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import trustme

from mailer.smtp import Security, SmtpSettings
from tests.smtp_server import HOST, RecordingSmtpServer

POSTFIX = Path("/usr/sbin/postfix")
REFUSED = "refused@example.org"  # Postfix itself answers 550 5.1.1 for this recipient


def missing() -> str | None:
    """Why a Postfix instance cannot run here, or None."""
    if not POSTFIX.exists() or shutil.which("postconf") is None:
        return "Postfix is not installed (Debian: apt-get install postfix)"
    if os.geteuid() != 0:
        return "starting a Postfix instance needs root"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


_MASTER = """\
{host}:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = relay.test
mydomain = relay.test
myorigin = relay.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [{target_host}]:{target_port}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
    check_recipient_access inline:{{ {{ {refused} = 550 5.1.1 No such user }} }},
    permit_mynetworks, reject
smtpd_tls_security_level = may
smtpd_tls_cert_file = {root}/relay.pem
smtpd_tls_key_file = {root}/relay.key
smtpd_tls_loglevel = 0
biff = no
append_dot_mydomain = no
smtputf8_enable = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 60s
bounce_queue_lifetime = 60s
default_destination_concurrency_limit = 4
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
anvil_rate_time_unit = 60s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
"""


class PostfixRelay:
    """A started Postfix instance; a context manager that starts and stops it."""

    def __init__(self, *, target: RecordingSmtpServer) -> None:
        self.target = target
        self.host = HOST
        self.port = 0
        self.ca_file: Path | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._root: Path | None = None

    def start(self) -> Self:
        self._directory = tempfile.TemporaryDirectory(prefix="coopmail-postfix-")
        root = self._root = Path(self._directory.name)
        root.chmod(0o755)  # the daemons run as the postfix user and must reach their files
        (root / "queue").mkdir()
        (root / "data").mkdir()
        shutil.chown(root / "data", user="postfix", group="postfix")
        authority = trustme.CA()
        certificate = authority.issue_cert(HOST, "localhost")
        certificate.cert_chain_pems[0].write_to_path(str(root / "relay.pem"))
        certificate.private_key_pem.write_to_path(str(root / "relay.key"))
        self.ca_file = root / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        self.port = _free_port()
        (root / "master.cf").write_text(_MASTER.format(host=HOST, port=self.port))
        (root / "main.cf").write_text(
            _MAIN.format(
                root=root,
                target_host=self.target.host,
                target_port=self.target.port,
                refused=REFUSED,
            )
        )
        for name in ("dynamicmaps.cf", "postfix-files"):
            source = Path("/etc/postfix") / name
            if source.exists():
                shutil.copy(source, root / name)
        self._postfix("start")
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"220"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Postfix did not start on port {self.port}: {self.log()}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self._root is not None:
            try:
                self._postfix("stop")
            finally:
                assert self._directory is not None
                self._directory.cleanup()
                self._root = self._directory = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def settings(self, **changes: Any) -> SmtpSettings:
        """Client settings for this relay: STARTTLS, verified against ca_file (set
        SSL_CERT_FILE to it, as the tests do), with `changes` applied."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": Security.STARTTLS,
            "timeout": 10.0,
        }
        values.update(changes)
        return SmtpSettings(**values)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?starttls=true"

    def log(self) -> str:
        path = self._root / "maillog" if self._root is not None else None
        return path.read_text(errors="replace") if path is not None and path.exists() else ""

    def _postfix(self, command: str) -> None:
        assert self._root is not None
        subprocess.run(
            [str(POSTFIX), "-c", str(self._root), command],
            check=True,
            capture_output=True,
            timeout=60,
        )
