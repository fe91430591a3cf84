"""A foreground send on every core: delivery processes sharing the outbox, one progress.

Python runs one thread of Python at a time, so a send that personalises, signs and frames
thousands of messages a second needs processes. Each is a worker like `coopmail worker`,
limited to the campaigns being sent and stopping when they are done; they share the outbox
exactly as separate workers do (SKIP LOCKED on PostgreSQL, SQLite's single writer), so a
process that dies has its rows taken over and nothing is sent twice. The parent only adds
up their progress and passes on a stop.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from campaigns.worker import Paused, Progress
from coopmail.config import Settings
from coopmail.db import make_engine
from coopmail.delivery import make_worker
from mailer.smtp import SmtpSettings

_REPORT_EVERY = 0.1  # seconds between a process's progress reports
_STOP_WAIT = 60.0  # seconds a stopped process may take to finish its in-flight messages
# Below this many messages per process another process costs more than it brings.
MESSAGES_PER_PROCESS = 500


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def processes_for(*, remaining: int, requested: int | None) -> int:
    """As many processes as asked, else one per core, but none idle for a small send."""
    if requested is not None:
        return requested
    return max(1, min(cores(), -(-remaining // MESSAGES_PER_PROCESS)))


@dataclass(frozen=True, kw_only=True)
class _Assignment:
    """What a delivery process needs; picklable, for a process started afresh."""

    index: int
    database_url: str
    settings: Settings
    smtp: SmtpSettings | None
    concurrency: int
    campaign_ids: tuple[int, ...]


@dataclass(kw_only=True)
class Shared:
    """The progress of all the processes, as one Progress, and what became of each."""

    total: Progress = field(default_factory=Progress)
    per_process: list[Progress] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a process that stopped on an error


def send_in_processes(
    *,
    database_url: str,
    settings: Settings,
    smtp: SmtpSettings | None,
    concurrency: int,
    campaign_ids: tuple[int, ...],
    processes: int,
    stop: threading.Event,
    on_progress: Callable[[Progress], None] | None = None,
) -> Shared:
    """Run `processes` delivery processes until the campaigns are sent (or `stop` is set)."""
    context = multiprocessing.get_context("spawn")  # no inherited locks, threads or sockets
    reports: Any = context.Queue()
    children = [
        context.Process(
            target=_deliver,
            args=(
                _Assignment(
                    index=index,
                    database_url=database_url,
                    settings=settings,
                    smtp=smtp,
                    concurrency=concurrency,
                    campaign_ids=campaign_ids,
                ),
                reports,
            ),
            name=f"coopmail-delivery-{index}",
        )
        for index in range(processes)
    ]
    shared = Shared(per_process=[Progress() for _ in children])
    finished: set[int] = set()
    stopped = False
    for child in children:
        child.start()
    try:
        while len(finished) < len(children):
            if stop.is_set() and not stopped:
                stopped = True
                _stop(children)
            try:
                kind, index, payload = reports.get(timeout=0.1)
            except queue.Empty:
                _notice_deaths(children, finished, shared)
                continue
            if kind == "error":
                shared.failures.append(payload)
                continue
            shared.per_process[index] = _progress(payload)
            if kind == "done":
                finished.add(index)
            shared.total = _sum(shared.per_process, started=shared.total.started)
            if on_progress is not None:
                on_progress(shared.total)
    finally:
        if not stopped:
            _stop(children)
        for child in children:
            child.join(_STOP_WAIT)
            if child.is_alive():
                child.kill()
                child.join()
    return shared


def _stop(children: Sequence[multiprocessing.process.BaseProcess]) -> None:
    """SIGTERM: each finishes its in-flight messages and hands back the rest."""
    for child in children:
        if child.is_alive():
            child.terminate()


def _notice_deaths(
    children: Sequence[multiprocessing.process.BaseProcess], finished: set[int], shared: Shared
) -> None:
    """A process gone without its last report (killed, or it could not start)."""
    for index, child in enumerate(children):
        if index not in finished and child.exitcode is not None:
            finished.add(index)
            if child.exitcode != 0:
                shared.failures.append(
                    f"delivery process {index + 1} stopped (exit code {child.exitcode}); "
                    "the others carry on, and its messages are taken over"
                )


def _deliver(assignment: _Assignment, reports: Any) -> None:
    """One delivery process: a worker for the campaigns, reporting to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent decides
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    index = assignment.index
    last = [0.0]

    def report(progress: Progress) -> None:
        if time.monotonic() - last[0] >= _REPORT_EVERY:
            last[0] = time.monotonic()
            reports.put(("progress", index, _snapshot(progress)))

    engine = make_engine(assignment.database_url)
    try:
        worker = make_worker(
            engine=engine,
            settings=assignment.settings,
            smtp=assignment.smtp,
            concurrency=assignment.concurrency,
            campaign_ids=assignment.campaign_ids,
            until_done=True,
            stop=stop,
            on_progress=report,
        )
        progress = worker.run()
    except Exception as error:
        reports.put(("error", index, f"delivery process {index + 1} stopped: {error}"))
        reports.put(("done", index, _snapshot(Progress())))
        raise SystemExit(1) from None
    finally:
        engine.dispose()
    reports.put(("done", index, _snapshot(progress)))


def _snapshot(progress: Progress) -> dict[str, Any]:
    return {
        "sent": progress.sent,
        "failed": progress.failed,
        "skipped": progress.skipped,
        "retrying": progress.retrying,
        "taken_over": progress.taken_over,
        "paused": [(paused.campaign_id, paused.reason) for paused in progress.paused],
        "database_trouble": progress.database_trouble,
    }


def _progress(snapshot: dict[str, Any]) -> Progress:
    return Progress(
        sent=snapshot["sent"],
        failed=snapshot["failed"],
        skipped=snapshot["skipped"],
        retrying=snapshot["retrying"],
        taken_over=snapshot["taken_over"],
        paused=[Paused(campaign_id, reason) for campaign_id, reason in snapshot["paused"]],
        database_trouble=snapshot["database_trouble"],
    )


def _sum(parts: list[Progress], *, started: float) -> Progress:
    paused: dict[int, Paused] = {}
    for part in parts:
        paused.update((each.campaign_id, each) for each in part.paused)
    return Progress(
        sent=sum(part.sent for part in parts),
        failed=sum(part.failed for part in parts),
        skipped=sum(part.skipped for part in parts),
        retrying=sum(part.retrying for part in parts),
        taken_over=sum(part.taken_over for part in parts),
        paused=list(paused.values()),
        database_trouble=next((p.database_trouble for p in parts if p.database_trouble), None),
        started=started,
    )
