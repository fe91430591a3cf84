"""Waiting out a database that does not answer, for the shell's long-running parts (the
scheduler, the supervisor, the pages); which errors pass on their own is decided in
``campaigns.transient``, the one rule the delivery worker follows too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from campaigns.transient import Backoff, describe, is_transient

log = logging.getLogger("coopmail.transient")

T = TypeVar("T")

DEFAULT_BACKOFF = Backoff(first=1.0, cap=60.0)  # for the scheduler and the supervisor


def retry_transient(
    action: Callable[[], T],
    *,
    what: str,
    attempts: int = 6,
    backoff: Backoff = DEFAULT_BACKOFF,
    wait: Callable[[float], object],
) -> T:
    """``action()``, tried again after a transient database error, ``attempts`` times in
    all; ``wait(seconds)`` pauses (an Event's wait, so a stop request cuts it short)."""
    for failure in range(1, attempts + 1):
        try:
            return action()
        except Exception as error:
            if not is_transient(error) or failure == attempts:
                raise
            delay = backoff.delay(failure)
            log.warning(
                "%s: the database did not answer (%s); trying again in %.0f s",
                what,
                describe(error),
                delay,
            )
            wait(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
