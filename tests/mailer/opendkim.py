"""DKIM verified by OpenDKIM (Debian's opendkim), in its test mode (``opendkim -t``), which
checks Ed25519 signatures (RFC 8463) too; the Mail::DKIM Debian ships does not.

OpenDKIM resolves through Unbound: a configuration forwards every query to a TxtServer on
127.0.0.1, so the key is looked up over DNS with the answer given by the test.
``missing()`` says why it cannot run here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.mailer.dns_server import HOST, TxtServer

_RESULT = re.compile(
    r"\bdkim=(?P<result>\w+)\b[^\n]*?\bheader\.d=(?P<domain>[^\s;]+)[^\n]*?"
    r"\bheader\.a=(?P<algorithm>[^\s;]+)[^\n]*?\bheader\.s=(?P<selector>[^\s;]+)"
)
_UNBOUND = """\
server:
  do-not-query-localhost: no
  module-config: "iterator"
  use-syslog: no
  chroot: ""
  username: ""
  verbosity: 0
forward-zone:
  name: "."
  forward-addr: {host}@{port}
"""
_OPENDKIM = """\
Mode v
Syslog no
LogResults yes
ResolverConfiguration {unbound}
"""


@dataclass(frozen=True)
class Verdict:
    result: str  # "pass", "fail", ...
    domain: str
    selector: str
    algorithm: str


def missing() -> str | None:
    """Why OpenDKIM cannot run here, or None."""
    if shutil.which("opendkim") is None:
        return "OpenDKIM is not installed (Debian: apt-get install opendkim)"
    return None


def verify(message: bytes, *, keys: Mapping[str, str]) -> list[Verdict]:
    """Each signature of ``message`` as OpenDKIM judges it, keys served from ``keys``."""
    command = shutil.which("opendkim") or "opendkim"
    with tempfile.TemporaryDirectory() as folder, TxtServer(keys) as dns:
        root = Path(folder)
        unbound = root / "unbound.conf"
        unbound.write_text(_UNBOUND.format(host=HOST, port=dns.port))
        config = root / "opendkim.conf"
        config.write_text(_OPENDKIM.format(unbound=unbound))
        path = root / "message.eml"
        path.write_bytes(message)
        # -vvv prints the Authentication-Results field it would add, which says it all.
        answer = subprocess.run(
            [command, "-x", str(config), "-vvv", "-t", str(path)],
            capture_output=True,
            check=True,
            timeout=120,
        )
    output = answer.stdout.decode(errors="replace") + answer.stderr.decode(errors="replace")
    return [
        Verdict(
            result=found["result"],
            domain=found["domain"],
            selector=found["selector"],
            algorithm=found["algorithm"],
        )
        for found in _RESULT.finditer(output)
    ]
