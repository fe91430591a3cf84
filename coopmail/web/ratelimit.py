"""Sliding-window rate limits kept in memory, for the subscribe form.

In-process on purpose: one `coopmail serve` process serves the pages, and a restart
forgetting the counts is harmless. Several web processes would each count on their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000  # bounds memory under a flood of distinct keys


class SlidingWindow:
    """At most ``limit`` events per key in any ``seconds`` long window."""

    def __init__(
        self, *, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; False (and not counted) when over the limit."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= _MAX_KEYS:
                    self._forget_idle(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.seconds:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        idle = [key for key, events in self._events.items() if events[-1] <= now - self.seconds]
        for key in idle:
            del self._events[key]
        if len(self._events) >= _MAX_KEYS:  # all busy: drop the oldest half rather than grow
            for key in sorted(self._events, key=lambda k: self._events[k][-1])[: _MAX_KEYS // 2]:
                del self._events[key]
