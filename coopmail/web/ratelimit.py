"""Rate limits for the web, counted in the database so every web process shares them.

A thin face on :mod:`coopmail.throttle` for code that asks one question per request:
may this key go on? Each answer is its own short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from coopmail import throttle
from coopmail.db import session_scope
from subscribers.base import utcnow

log = logging.getLogger("coopmail.web")


class SlidingWindow:
    """At most ``limit`` events per key in any ``seconds`` long window, counted under
    ``name`` for every process on the same database."""

    def __init__(
        self,
        *,
        engine: Engine,
        name: str,
        limit: int,
        seconds: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.rule = throttle.Limit(name=name, limit=limit, seconds=seconds)
        self._engine = engine
        self._clock = clock

    @property
    def limit(self) -> int:
        return self.rule.limit

    @property
    def seconds(self) -> int:
        return self.rule.seconds

    def now(self) -> datetime:
        return self._clock()

    def hit(
        self, key: str, *, session: Session | None = None, now: datetime | None = None
    ) -> throttle.Verdict:
        """Count one event for ``key`` unless over the limit (then it is not counted).

        In the caller's ``session`` when given: the count then commits with the work it
        allowed, or rolls back with it, so only requests that went through are counted."""
        moment = now or self._clock()
        if session is not None:
            return throttle.hit(session, limit=self.rule, key=key, now=moment)
        with session_scope(self._engine) as own:
            return throttle.hit(own, limit=self.rule, key=key, now=moment)

    def allow(self, key: str) -> bool:
        return self.hit(key).allowed

    def refund(self, key: str, *, at: datetime) -> None:
        """Take back the event counted ``at`` for ``key``: the request it allowed failed on
        our side. Best effort: the database that failed the request may fail this too."""
        try:
            with session_scope(self._engine) as session:
                throttle.release(session, limit=self.rule, key=key, now=at)
        except SQLAlchemyError as error:
            log.info("a rate-limit count could not be taken back (%s)", error.__class__.__name__)
