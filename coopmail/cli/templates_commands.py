"""`coopmail templates`: what kinds of mail exist, and check a staff template."""

from __future__ import annotations

from pathlib import Path

import click

from coopmail.cli.app import App
from coopmail.cli.output import emit_json, note


@click.group("templates")
def templates_group() -> None:
    """List the templates and check staff-written ones."""


@templates_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """The kinds of campaign a content file can name as its template."""
    kinds = app.composer.kinds()
    if as_json:
        emit_json(kinds)
        return
    for kind in kinds:
        click.echo(kind)
    if app.settings.templates_dir:
        note(f"Staff templates in {app.settings.templates_dir} come first.")


@templates_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def check(app: App, file: Path) -> None:
    """Render FILE in the sandbox; report syntax and sandbox errors with their line."""
    app.composer.check_template(file)
    note(f"{file}: OK")


def register(cli: click.Group) -> None:
    cli.add_command(templates_group)
