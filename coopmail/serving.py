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
from sqlalchemy import Engine, text

from campaigns.compose import Composer
from campaigns.worker import Progress
from coopmail.config import Settings
from coopmail.delivery import make_worker
from coopmail.scheduling import SchedulerService
from coopmail.web import WebContext, create_app
from coopmail.web.logs import RedactLinkTokens

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
    scheduler = SchedulerService(
        engine=engine,
        composer=composer,
        timezone=settings.timezone,
        grace=timedelta(seconds=settings.misfire_grace),
        sender=settings.from_address,
    )
    stop = threading.Event()
    worker_thread = _worker_thread(engine, settings, concurrency, stop)

    def health() -> dict[str, Any]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception as error:  # a health check reports, it never raises
            database = f"unreachable: {type(error).__name__}"
        return {
            "status": "ok" if database == "ok" else "failing",
            "database": database,
            "scheduler": scheduler.role,
            "worker": "running" if worker_thread and worker_thread.is_alive() else "off",
        }

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
    scheduler.start()
    if worker_thread is not None:
        worker_thread.start()
    on_ready()
    try:
        server.run()  # returns after SIGTERM or SIGINT
    finally:
        stop.set()
        if worker_thread is not None:
            worker_thread.join(timeout=60)
        scheduler.stop()
        log.info("stopped")


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would end the process before
    the worker finished its in-flight messages; `serve` handles the signals itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _worker_thread(
    engine: Engine, settings: Settings, concurrency: int, stop: threading.Event
) -> threading.Thread | None:
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
        for reason in progress.paused:
            log.warning(reason)
        progress.paused.clear()

    runner = make_worker(
        engine=engine,
        settings=settings,
        concurrency=concurrency,
        stop=stop,
        on_progress=report,
    )

    def deliver() -> None:
        try:
            runner.run()
        except Exception:  # /health then reports the worker as off
            log.exception("the delivery worker stopped on an error; its rows will be taken over")

    return threading.Thread(target=deliver, name="coopmail-worker", daemon=True)
