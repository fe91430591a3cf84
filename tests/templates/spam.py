"""SpamAssassin's verdict on a message, with its local rules only (``spamassassin -L``).

Debian's spamassassin package provides the command; no network test runs (no DNS
blocklists, no Razor or Pyzor), so the score is the same on every machine with the same
rules. ``missing()`` says why it cannot run here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

_STATUS = re.compile(rb"^X-Spam-Status: (?P<status>.*?)(?=^\S)", re.MULTILINE | re.DOTALL)
_SCORE = re.compile(r"\bscore=(?P<score>-?\d+(?:\.\d+)?)")
_TESTS = re.compile(r"\btests=(?P<tests>[A-Z0-9_,\s]*)")


@dataclass(frozen=True)
class Verdict:
    score: float
    rules: frozenset[str]


def missing() -> str | None:
    """Why SpamAssassin cannot run here, or None."""
    if shutil.which("spamassassin") is None:
        return "SpamAssassin is not installed (Debian: apt-get install spamassassin)"
    return None


def judge(message: bytes) -> Verdict:
    """The score and the rules that fired, as the X-Spam-Status header of a test run says."""
    command = shutil.which("spamassassin") or "spamassassin"
    # -L: local tests only; -t: test mode (the report, the message untouched); -x: never
    # create a preferences file in the home folder.
    answer = subprocess.run(
        [command, "-L", "-t", "-x"], input=message, capture_output=True, check=True
    )
    found = _STATUS.search(answer.stdout)
    if found is None:
        raise ValueError("SpamAssassin gave no X-Spam-Status header")
    status = " ".join(found["status"].decode("ascii", "replace").split())
    score, tests = _SCORE.search(status), _TESTS.search(status)
    if score is None or tests is None:
        raise ValueError(f"unexpected X-Spam-Status: {status}")
    rules = {rule.strip() for rule in tests["tests"].replace(" ", "").split(",")}
    return Verdict(score=float(score["score"]), rules=frozenset(rule for rule in rules if rule))
