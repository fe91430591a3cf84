"""Keep the parts of `coopmail serve` running: restart one that died, and say so.

A part is anything that can be started again and asked whether it still runs: the
delivery worker's thread, the scheduler. The supervisor looks at them every few seconds;
a part found stopped is started again after a capped exponential wait (so a part that dies
at once on every start does not spin), with a line in the log each time. /health reports
what the supervisor sees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine, text

from campaigns.transient import Backoff, describe
from coopmail.transient import DEFAULT_BACKOFF

log = logging.getLogger("coopmail.serve")


class Part(Protocol):
    """What the supervisor needs of a part. ``running()`` is where a deeper liveness check
    goes (a heartbeat the part updates), beyond its thread being alive."""

    name: str

    def start(self) -> None: ...

    def running(self) -> bool: ...

    def state(self) -> str:
        """A word for /health while running: "running", "leader", "standby"..."""
        ...


@dataclass(kw_only=True)
class _Watch:
    part: Part
    restarts: int = 0
    failures_in_a_row: int = 0
    down_since: float | None = None
    next_start: float = 0.0


@dataclass(kw_only=True)
class Supervisor:
    parts: Sequence[Part]
    backoff: Backoff = DEFAULT_BACKOFF
    # A part that ran this long since its last start is doing fine: its next stop is
    # treated as a first failure again.
    healthy_after: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _watches: list[_Watch] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started_at: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._watches = [_Watch(part=part) for part in self.parts]

    def start(self) -> None:
        for watch in self._watches:
            watch.part.start()
            self._started_at[watch.part.name] = self.clock()

    def check(self) -> None:
        """One look at every part: restart those stopped whose wait is over."""
        now = self.clock()
        with self._lock:
            for watch in self._watches:
                part = watch.part
                if part.running():
                    if now - self._started_at.get(part.name, now) >= self.healthy_after:
                        watch.failures_in_a_row = 0
                    watch.down_since = None
                    continue
                if watch.down_since is None:
                    watch.down_since = now
                    watch.failures_in_a_row += 1
                    delay = self.backoff.delay(watch.failures_in_a_row)
                    watch.next_start = now + delay
                    log.warning("the %s is not running; restarting it in %.0f s", part.name, delay)
                if now < watch.next_start:
                    continue
                watch.restarts += 1
                log.warning("restarting the %s (restart %s)", part.name, watch.restarts)
                part.start()
                self._started_at[part.name] = now
                watch.down_since = None

    def run(self, stop: threading.Event, *, every: float = 2.0) -> None:
        """Check every ``every`` seconds until ``stop`` is set; never raises."""
        while not stop.wait(every):
            try:
                self.check()
            except Exception:  # the supervisor itself must outlive what it watches
                log.exception("the supervisor failed to check the parts")

    def report(self) -> dict[str, str]:
        """Each part's state for /health: its own word while running, else "stopped"."""
        with self._lock:
            return {
                watch.part.name: watch.part.state() if watch.part.running() else "stopped"
                for watch in self._watches
            }

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {watch.part.name: watch.restarts for watch in self._watches}


def probe_database(engine: Engine) -> str:
    """ "ok" when the database answers a query, else what went wrong, in a few words."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # a health check reports, it never raises
        return f"unreachable: {describe(error)}"
    return "ok"


def health_report(
    *, database: str, parts: dict[str, str], absent: Sequence[str] = ()
) -> dict[str, object]:
    """/health's answer: "failing" names every part that should run and does not, and the
    database if it does not answer; ``absent`` parts are off by configuration."""
    failing = [name for name, state in parts.items() if state == "stopped"]
    if database != "ok":
        failing.insert(0, "database")
    return {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "database": database,
        **parts,
        **dict.fromkeys(absent, "off"),
    }
