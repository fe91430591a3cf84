"""Access logs without the tokens of the links in mail.

A preferences token opens a person's data and erases it; an unsubscribe token unsubscribes.
Whoever reads the web server's log must not gain either, so the token part of those paths
is cut before uvicorn writes its access line.
"""

from __future__ import annotations

import logging
import re

_TOKEN_PATH = re.compile(r"^(/(?:u|p|v|confirm)/)[^/?#]+")
# Anything shaped like one of our API keys (cm_<8 hex>_<secret>), wherever in the URL it
# is: a client that sends its key as ?api_key= is refused, and must not leave it in a log.
_API_KEY = re.compile(r"cm_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}")
_PATH_ARGUMENT = 2
log = logging.getLogger(
    "coopmail.web"
)  # uvicorn.access: client, method, path with query, HTTP version, status


def redacted_path(path: str) -> str:
    """``/p/TOKEN/export?lang=fr`` becomes ``/p/…/export?lang=fr``, and
    ``?api_key=cm_1a2b3c4d_SECRET`` becomes ``?api_key=cm_…``."""
    return _API_KEY.sub("cm_…", _TOKEN_PATH.sub(r"\1…", path))


class RedactLinkTokens(logging.Filter):
    """For the ``uvicorn.access`` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARGUMENT:
            path = args[_PATH_ARGUMENT]
            if isinstance(path, str):
                record.args = (
                    *args[:_PATH_ARGUMENT],
                    redacted_path(path),
                    *args[_PATH_ARGUMENT + 1 :],
                )
        return True


def client_hung_up(method: str, path: str) -> None:
    """One line for a client that declared a body and left before sending it all: a slow
    or broken client, or a scanner, not our error (it used to be a 67-line traceback)."""
    log.info("%s %s: the client hung up before sending the whole body", method, redacted_path(path))
