"""The one process of `coopmail serve`: the web application on uvicorn, the scheduler and a
delivery worker, stopped together and gracefully.

Apart from the command line so that only `serve` loads the web stack.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import uvicorn
from sqlalchemy import Engine

from campaigns.compose import Composer
from campaigns.worker import DeliveryWorker, Progress
from coopmail.cli import hints
from coopmail.config import Settings
from coopmail.delivery import make_worker
from coopmail.digest_approval import notify_approvers
from coopmail.housekeeping import TIDY_EVERY, tidy
from coopmail.jobs.runner import JobRunner
from coopmail.jobs.work import WORK, import_uploads
from coopmail.scheduling import SchedulerService
from coopmail.staff.sessions import SessionPolicy
from coopmail.supervision import Supervisor, health_report, probe_database
from coopmail.web import WebContext, create_app
from coopmail.web.logs import RedactLinkTokens
from coopmail.web.staff_mail import StaffMails

log = logging.getLogger("coopmail.serve")
_REPORT_EVERY = 30.0


def run_server(
    *,
    engine: Engine,
    settings: Settings,
    composer: Composer,
    host: str,
    port: int,
    concurrency: int,
    on_ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve until SIGTERM or SIGINT, then let in-flight messages finish."""
    staff_mails = StaffMails(settings=settings, unit=lambda: composer.unit)
    scheduler = SchedulerService(
        engine=engine,
        composer=composer,
        timezone=settings.timezone,
        grace=timedelta(seconds=settings.misfire_grace),
        sender=settings.from_address,
        chores=lambda now: tidy(
            engine,
            policy=SessionPolicy.from_settings(settings),
            uploads=import_uploads(settings),
            now=now,
        ),
        chores_every=TIDY_EVERY,
        on_issue=lambda run: notify_approvers(engine, mails=staff_mails, run=run),
    )
    stop = threading.Event()
    worker = _worker_part(engine, settings, concurrency, stop)
    # The admin's imports and bulk actions; a job a dead process left is failed at start.
    jobs = JobRunner(engine=engine, work=WORK, stop=stop)
    supervisor = Supervisor(
        parts=[scheduler, jobs] if worker is None else [scheduler, jobs, worker]
    )

    def health() -> dict[str, Any]:
        return health_report(
            database=probe_database(engine),
            parts=supervisor.report(),
            absent=["worker"] if worker is None else [],
        )

    server = _Server(
        uvicorn.Config(
            create_app(
                context=WebContext(
                    engine=engine, settings=settings, composer=composer, health=health
                )
            ),
            host=host,
            port=port,
            log_level="info",
            lifespan="off",
        )
    )

    # After uvicorn.Config, which sets up its loggers: no link token reaches the access log.
    logging.getLogger("uvicorn.access").addFilter(RedactLinkTokens())

    def shut_down(_signum: int, _frame: object) -> None:
        stop.set()
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, shut_down)
    supervisor.start()
    watching = threading.Thread(
        target=supervisor.run, args=(stop,), name="coopmail-supervisor", daemon=True
    )
    watching.start()
    on_ready()
    try:
        server.run()  # returns after SIGTERM or SIGINT
    finally:
        stop.set()
        watching.join(timeout=10)
        jobs.join(timeout=60)
        if worker is not None:
            worker.join(timeout=60)
        scheduler.stop()
        log.info("stopped")


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would end the process before
    the worker finished its in-flight messages; `serve` handles the signals itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WorkerPart:
    """The delivery worker of `coopmail serve`, in a thread; a fresh worker on each start.

    It counts as running while its thread is alive and its event loop beats (see
    `DeliveryWorker.health`): a loop stuck for longer than ``STUCK_AFTER`` counts as stopped,
    and the supervisor starts a fresh worker; the stuck one's rows are taken over when its
    leases expire, as any dead worker's are."""

    name = "worker"
    STUCK_AFTER = 30.0  # seconds without a beat of the worker's event loop

    def __init__(self, make_runner: Callable[[], DeliveryWorker]) -> None:
        self._make_runner = make_runner
        self._thread: threading.Thread | None = None
        self._runner: DeliveryWorker | None = None

    def start(self) -> None:
        if self.running():
            return
        self._runner = self._make_runner()
        self._thread = threading.Thread(
            target=self._deliver, args=(self._runner,), name="coopmail-worker", daemon=True
        )
        self._thread.start()

    def running(self) -> bool:
        if self._thread is None or not self._thread.is_alive() or self._runner is None:
            return False
        return self._runner.health().is_alive(within=self.STUCK_AFTER)

    def state(self) -> str:
        health = self._runner.health() if self._runner is not None else None
        if health is not None and health.database_failing_since is not None:
            return "waiting for the database"
        return "running"

    def join(self, *, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    @staticmethod
    def _deliver(runner: DeliveryWorker) -> None:
        try:
            runner.run()
        except Exception:  # the supervisor restarts it; /health says it is stopped meanwhile
            log.exception("the delivery worker stopped on an error; its rows will be taken over")


def _worker_part(
    engine: Engine, settings: Settings, concurrency: int, stop: threading.Event
) -> WorkerPart | None:
    if not settings.smtp_url:
        log.warning("COOPMAIL_SMTP_URL is not set: no delivery worker in this process")
        return None
    last = [0.0]

    def report(progress: Progress) -> None:
        if time.monotonic() - last[0] >= _REPORT_EVERY and (progress.sent or progress.failed):
            last[0] = time.monotonic()
            log.info(
                "sent %s (%.0f/s), failed %s, skipped %s, retrying %s",
                progress.sent,
                progress.rate,
                progress.failed,
                progress.skipped,
                progress.retrying,
            )
        for paused in progress.paused:
            log.warning("%s; %s", paused, hints.for_pause(paused.campaign_id))
        progress.paused.clear()

    make_worker(  # a configuration mistake shows now, at start, not in the first restart
        engine=engine, settings=settings, concurrency=concurrency, stop=stop
    )
    return WorkerPart(
        lambda: make_worker(
            engine=engine,
            settings=settings,
            concurrency=concurrency,
            stop=stop,
            on_progress=report,
        )
    )
