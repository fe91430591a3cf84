"""`coopmail db`: create and upgrade the schema."""

from __future__ import annotations

import click

from coopmail.cli.app import App
from coopmail.cli.output import emit_json, note
from coopmail.db import describe_url, schema_revisions, upgrade


@click.group("db")
def db_group() -> None:
    """Create, upgrade and inspect the database schema."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(app: App) -> None:
    """Create the schema or bring it up to date (safe to run again)."""
    before, head = schema_revisions(app.engine)
    if before == head:
        note(f"The database {describe_url(app.engine)} is up to date (revision {head}).")
        return
    upgrade(app.engine)
    note(
        f"Upgraded {describe_url(app.engine)} from {before or 'an empty database'} to {head}. "
        "Next: `coopmail lists create NAME`."
    )


@db_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def status_command(app: App, as_json: bool) -> None:
    """Say whether the schema is current; exits 1 when an upgrade is needed."""
    current, head = schema_revisions(app.engine)
    if as_json:
        emit_json({"current": current, "head": head, "up_to_date": current == head})
    elif current == head:
        click.echo(f"up to date (revision {head})")
    else:
        click.echo(f"behind: at {current or 'no schema'}, needs {head}; run `coopmail db upgrade`")
    if current != head:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
