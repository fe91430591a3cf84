"""caniemail's verdicts on our HTML, through @jsx-email/doiuse-email run by Node.

The package is installed by make (tests/email_lint/package.json and its lock, into
.tools/node/); ``missing()`` says why it cannot run here, so the lint test skips saying so.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "email_lint" / "lint.cjs"
NODE_FOLDER = ROOT / ".tools" / "node"
PACKAGE = NODE_FOLDER / "node_modules" / "@jsx-email" / "doiuse-email" / "package.json"
CLIENTS = ("gmail.*", "outlook.*", "apple-mail.*", "yahoo.*")
_VERDICT = re.compile(r"^`(?P<feature>.+)` is not supported by `(?P<client>[a-z0-9.-]+)`$")

Finding = tuple[str, str]  # (feature, client), as caniemail names them


def missing() -> str | None:
    """Why the lint cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed (Debian: apt-get install nodejs npm)"
    if not PACKAGE.is_file():
        return "@jsx-email/doiuse-email is not installed: run `make .tools/node/.installed`"
    return None


def lint(documents: Mapping[str, str]) -> dict[str, list[Finding]]:
    """Each document's errors (not supported at all), one entry per time a rule matched."""
    request = json.dumps({"clients": list(CLIENTS), "documents": dict(documents)})
    node = shutil.which("node") or "node"
    answer = subprocess.run(
        [node, str(SCRIPT), str(NODE_FOLDER)],
        input=request.encode(),
        capture_output=True,
        check=True,
    )
    results = json.loads(answer.stdout)
    return {name: [_finding(line) for line in results[name]["errors"]] for name in documents}


def _finding(line: str) -> Finding:
    match = _VERDICT.match(line)
    if match is None:
        raise ValueError(f"unexpected verdict from doiuse-email: {line!r}")
    return match["feature"], match["client"]
