"""`coopmail serve`: the web application, the scheduler and a delivery worker, one process."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import uvicorn
from sqlalchemy import text

from campaigns.worker import Progress
from coopmail.cli.app import App
from coopmail.cli.output import note
from coopmail.delivery import make_worker
from coopmail.scheduling import SchedulerService
from coopmail.web import WebContext, create_app
from mailer.capture import CaptureServer

log = logging.getLogger("coopmail.serve")
_REPORT_EVERY = 30.0


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="SMTP connections of the built-in worker.",
)
@click.option(
    "--capture",
    "capture_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Deliver into an embedded server that keeps each message as an .eml file in this "
    "folder, instead of COOPMAIL_SMTP_URL (for trials and the demo).",
)
@click.pass_obj
def serve(app: App, host: str, port: int, concurrency: int, capture_dir: Path | None) -> None:
    """Run the web application, the scheduler and a delivery worker until SIGTERM.

    Several `coopmail serve` may run against one PostgreSQL database: one holds the
    scheduler role, the others stand by, and all of them deliver.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.ExitStack() as resources:
        if capture_dir is not None:
            capture = resources.enter_context(CaptureServer(outbox=capture_dir))
            app.use_settings(dataclasses.replace(app.settings, smtp_url=capture.url))
            note(f"Mail is captured as .eml files in {capture_dir.resolve()}, not delivered.")
        _serve(app, host, port, concurrency)


def _serve(app: App, host: str, port: int, concurrency: int) -> None:
    settings = app.settings
    with app.session():
        pass  # refuse to start on a schema that is behind
    scheduler = SchedulerService(
        engine=app.engine,
        composer=app.composer,
        timezone=settings.timezone,
        grace=timedelta(seconds=settings.misfire_grace),
        sender=settings.from_address,
    )
    stop = threading.Event()
    worker_thread = _worker_thread(app, concurrency, stop)

    def health() -> dict[str, Any]:
        try:
            with app.engine.connect() as connection:
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
                    engine=app.engine, settings=settings, composer=app.composer, health=health
                )
            ),
            host=host,
            port=port,
            log_level="info",
            lifespan="off",
        )
    )

    def shut_down(_signum: int, _frame: object) -> None:
        stop.set()
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, shut_down)
    scheduler.start()
    if worker_thread is not None:
        worker_thread.start()
    note(
        f"Serving on http://{host}:{port} (health: /health). SIGTERM or Ctrl-C stops "
        "gracefully: messages in flight finish first."
    )
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


def _worker_thread(app: App, concurrency: int, stop: threading.Event) -> threading.Thread | None:
    if not app.settings.smtp_url:
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
        engine=app.engine,
        settings=app.settings,
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


def register(cli: click.Group) -> None:
    cli.add_command(serve)
