"""SpamAssassin's score of a rendered message, when ``spamassassin`` is installed.

It runs locally (``-L``: no network tests, so no DNS blocklists are asked) in test mode
(``-t``), and its X-Spam-Status header gives the score and the rules that fired.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

from campaigns.checklist import SpamScore, SpamScorer

_STATUS = re.compile(
    rb"^X-Spam-Status: .*?score=(?P<score>-?[\d.]+)\s+required=(?P<required>-?[\d.]+)"
    rb"(?:\s+tests=(?P<tests>[^\n]*(?:\n\s+[^\n]*)*))?",
    re.MULTILINE,
)
TIMEOUT = 60

log = logging.getLogger("coopmail.spamcheck")


def spam_scorer() -> SpamScorer | None:
    """The scorer, or None when spamassassin is not on the PATH."""
    program = shutil.which("spamassassin")
    if program is None:
        return None

    def score(message: bytes) -> SpamScore | None:
        try:
            done = subprocess.run(  # noqa: S603 - a fixed program, the message on stdin
                [program, "-t", "-L"],
                input=message.replace(b"\r\n", b"\n"),
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("spamassassin did not finish: %s", error)
            return None
        found = _STATUS.search(done.stdout)
        if found is None:
            log.warning("spamassassin gave no X-Spam-Status header: %s", done.stderr[-300:])
            return None
        tests = (found.group("tests") or b"").decode("ascii", "replace")
        rules = [rule for rule in re.split(r"[,\s]+", tests) if rule and "=" not in rule]
        return SpamScore(
            score=float(found.group("score")),
            required=float(found.group("required")),
            rules=rules,
        )

    return score
