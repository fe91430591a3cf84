"""`coopmail serve`: the web application, the scheduler and a delivery worker, one process."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from coopmail.cli.app import App
from coopmail.cli.output import note
from coopmail.config import capture_folder


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
    help="Keep each message as an .eml file in this folder instead of sending it: the same "
    "as COOPMAIL_SMTP_URL=capture:///FOLDER (for trials).",
)
@click.pass_obj
def serve(app: App, host: str, port: int, concurrency: int, capture_dir: Path | None) -> None:
    """Run the web application, the scheduler and a delivery worker until SIGTERM.

    Several `coopmail serve` may run against one PostgreSQL database: one holds the
    scheduler role, the others stand by, and all of them deliver.
    """
    if capture_dir is not None:
        app.override("smtp_url", f"capture://{capture_dir.resolve()}")
    app.settings.require_secret_key()  # every link the pages and mails make is signed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check is no news
    captured = capture_folder(app.settings.smtp_url)
    if captured is not None:
        note(f"Mail is kept as .eml files in {captured}, not delivered.")
    with app.session():
        pass  # refuse to start on a schema that is behind
    from coopmail.serving import run_server  # the web stack, for this command only

    run_server(
        engine=app.engine,
        settings=app.settings,
        composer=app.composer,
        host=host,
        port=port,
        concurrency=concurrency,
        on_ready=lambda: note(
            f"Serving on http://{host}:{port} (health: /health). SIGTERM or Ctrl-C "
            "stops gracefully: messages in flight finish first."
        ),
    )


def register(cli: click.Group) -> None:
    cli.add_command(serve)
