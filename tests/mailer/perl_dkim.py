"""DKIM verified by Perl's Mail::DKIM (Debian's libmail-dkim-perl), not by dkimpy, which
mailer.dkim builds on: two implementations agreeing is what makes a signature trustworthy.

The verifier asks a TxtServer on 127.0.0.1 for the key, as it would ask the Internet's DNS.
``missing()`` says why it cannot run here.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.mailer.dns_server import TxtServer

SCRIPT = Path(__file__).resolve().parent / "verify_dkim.pl"


@dataclass(frozen=True)
class Signature:
    result: str  # "pass", or "fail (body has been altered)", ...
    domain: str
    selector: str
    algorithm: str
    canonicalization: str
    headers: tuple[str, ...]


def missing() -> str | None:
    """Why Mail::DKIM cannot run here, or None."""
    if shutil.which("perl") is None:
        return "Perl is not installed"
    probe = subprocess.run(
        ["perl", "-MMail::DKIM::Verifier", "-MNet::DNS::Resolver", "-e", "1"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        return "Mail::DKIM is not installed (Debian: apt-get install libmail-dkim-perl)"
    return None


def verify(message: bytes, *, keys: Mapping[str, str]) -> list[Signature]:
    """Each signature of ``message`` as Mail::DKIM judges it, the key records served from
    ``keys`` (DNS name to TXT value)."""
    with TxtServer(keys) as dns:
        answer = subprocess.run(
            ["perl", str(SCRIPT), str(dns.port)], input=message, capture_output=True, check=True
        )
    signatures = []
    for line in answer.stdout.decode().splitlines():
        result, domain, selector, algorithm, canonicalization, headers = line.split("\t")
        signatures.append(
            Signature(
                result=result,
                domain=domain,
                selector=selector,
                algorithm=algorithm,
                canonicalization=canonicalization,
                headers=tuple(headers.split(":")),
            )
        )
    return signatures
