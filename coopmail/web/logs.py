"""Access logs without the tokens of the links in mail.

A preferences token opens a person's data and erases it; an unsubscribe token unsubscribes.
Whoever reads the web server's log must not gain either, so the token part of those paths
is cut before uvicorn writes its access line.
"""

from __future__ import annotations

import logging
import re

_TOKEN_PATH = re.compile(r"^(/(?:u|p|v|confirm)/)[^/?#]+")
_PATH_ARGUMENT = 2  # uvicorn.access: client, method, path with query, HTTP version, status


def redacted_path(path: str) -> str:
    """``/p/TOKEN/export?lang=fr`` becomes ``/p/…/export?lang=fr``."""
    return _TOKEN_PATH.sub(r"\1…", path)


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
