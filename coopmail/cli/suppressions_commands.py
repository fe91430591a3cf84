"""`coopmail suppressions`: the addresses that are never mailed."""

from __future__ import annotations

from typing import Any

import click

from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from subscribers.models import SuppressionReason
from subscribers.suppressions import list_suppressions, suppress, unsuppress


@click.group("suppressions")
def suppressions_group() -> None:
    """List, add and remove suppressed addresses."""


@suppressions_group.command("add")
@click.argument("email")
@click.option("--note", "note_text", default="", help="Why, for the record.")
@click.pass_obj
def add(app: App, email: str, note_text: str) -> None:
    """Never mail EMAIL again, whatever list it is on."""
    with app.session() as session:
        entry = suppress(session, email=email, reason=SuppressionReason.MANUAL, note=note_text)
        address = entry.email or email
    note(f"{address} is suppressed; no campaign will be sent to it.")


@suppressions_group.command("remove")
@click.argument("email")
@click.pass_obj
def remove(app: App, email: str) -> None:
    """Allow EMAIL to be subscribed again (only when the person asked for it)."""
    with app.session() as session:
        removed = unsuppress(session, email=email)
    if not removed:
        raise click.ClickException(f"{email} is not suppressed")
    note(f"{email} is no longer suppressed. Its list subscriptions are unchanged.")


@suppressions_group.command("list")
@click.option("--reason", type=click.Choice([r.value for r in SuppressionReason]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, reason: str | None, limit: int, as_json: bool) -> None:
    """Show the newest suppressions (erased addresses show only as a hash)."""
    with app.session() as session:
        entries = list_suppressions(
            session, reason=SuppressionReason(reason) if reason else None, limit=limit
        )
        rows: list[dict[str, Any]] = [
            {
                "email": entry.email,
                "email_hash": entry.email_hash,
                "reason": entry.reason.value,
                "note": entry.note,
                "at": entry.created_at.isoformat(),
            }
            for entry in entries
        ]
    if as_json:
        emit_json(rows)
        return
    grid = table("address", "reason", "since", "note")
    for row in rows:
        add_row(
            grid,
            row["email"] or f"(erased) {row['email_hash'][:12]}…",
            row["reason"],
            row["at"][:10],
            row["note"],
        )
    out.print(grid)


def register(cli: click.Group) -> None:
    cli.add_command(suppressions_group)
