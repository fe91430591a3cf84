"""`coopmail worker` (delivery) and `coopmail dev-smtp` (a local capture server)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from campaigns.worker import Progress
from coopmail.cli import hints
from coopmail.cli.app import App
from coopmail.cli.output import note
from coopmail.delivery import graceful_stop, make_worker
from mailer.capture import serve_forever

_REPORT_EVERY = 10.0


@click.command("worker")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="SMTP connections this worker keeps open.",
)
@click.option(
    "--lease",
    "lease_seconds",
    default=120.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds after which another worker may take over this one's rows.",
)
@click.pass_obj
def worker(app: App, concurrency: int, lease_seconds: float) -> None:
    """Deliver queued campaigns until stopped (SIGTERM or Ctrl-C finish what is in flight).

    Run as many as your relay accepts, on one machine or many sharing a PostgreSQL database.
    """
    with app.session():
        pass  # refuse to start on a schema that is behind
    last = [time.monotonic(), 0, 0, 0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < _REPORT_EVERY:
            return
        counts = [progress.sent, progress.failed, progress.skipped]
        if counts != last[1:]:
            note(
                f"sent {progress.sent} ({progress.rate:,.0f}/s), failed {progress.failed}, "
                f"skipped {progress.skipped}, retrying {progress.retrying}"
            )
        last[:] = [now, *counts]

    with graceful_stop() as stop:
        runner = make_worker(
            engine=app.engine,
            settings=app.settings,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            stop=stop,
            on_progress=report,
        )
        note(
            f"Worker {runner.worker_id} delivering with {concurrency} connections. "
            "Ctrl-C or SIGTERM stops it after the messages in flight."
        )
        progress = runner.run()
    for paused in progress.paused:
        note(f"{paused}; {hints.for_pause(paused.campaign_id)}")
    note(
        f"Worker stopped: sent {progress.sent}, failed {progress.failed}, "
        f"skipped {progress.skipped}, retrying {progress.retrying}."
    )


@click.command("dev-smtp")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=1025, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--outbox",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder where each message is saved as an .eml file.",
)
def dev_smtp(host: str, port: int, outbox: Path) -> None:
    """A local SMTP server that saves every message instead of delivering it (for trials)."""
    outbox.mkdir(parents=True, exist_ok=True)
    note(
        f"Capturing mail on smtp://{host}:{port} into {outbox}; use "
        f"COOPMAIL_SMTP_URL=smtp://{host}:{port}. Ctrl-C stops."
    )
    serve_forever(
        outbox=outbox, host=host, port=port, on_message=lambda path: note(f"saved {path.name}")
    )


def register(cli: click.Group) -> None:
    cli.add_command(worker)
    cli.add_command(dev_smtp)
