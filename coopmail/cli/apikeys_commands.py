"""`coopmail apikeys`: create, list and revoke the keys of the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from coopmail.apikeys import ApiKey, create_api_key, list_api_keys, revoke_api_key
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table


@click.group("apikeys")
def apikeys_group() -> None:
    """Create, list and revoke keys for the JSON API (/api/v1)."""


def _row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@apikeys_group.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (including the key) for scripts.")
@click.pass_obj
def create(app: App, name: str, as_json: bool) -> None:
    """Create a key called NAME (say who or what uses it) and print it, this once only."""
    with app.session() as session:
        new = create_api_key(session, name=name)
        row = _row(new.key)
    if as_json:
        emit_json({**row, "key": new.token})
        return
    click.echo(new.token)
    note(
        f"Created API key {row['name']!r}. This is the only time the key is shown: store it now "
        "in the client's secret store. Send it as `Authorization: Bearer KEY`; revoke it "
        f"with `coopmail apikeys revoke {row['id']}`."
    )


@apikeys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """Show every key (never the key itself): name, prefix, last use, revocation."""
    with app.session() as session:
        rows = [_row(key) for key in list_api_keys(session)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        note("No API keys yet. Create one with `coopmail apikeys create NAME`.")
        return
    grid = table("id", "name", "key", "created", "last used", "revoked")
    for row in rows:
        add_row(
            grid,
            row["id"],
            row["name"],
            f"cm_{row['prefix']}_…",
            _minute(row["created_at"]),
            _minute(row["last_used_at"]) or "never",
            _minute(row["revoked_at"]) or "",
        )
    out.print(grid)


def _minute(moment: str | None) -> str | None:
    return moment[:16].replace("T", " ") if moment else None


@apikeys_group.command("revoke")
@click.argument("name_or_id")
@click.pass_obj
def revoke(app: App, name_or_id: str) -> None:
    """Revoke a key by NAME or id: requests with it are refused from now on."""
    with app.session() as session:
        key = revoke_api_key(session, reference=name_or_id, now=datetime.now(UTC))
        name = key.name
    note(f"API key {name!r} is revoked. Create a replacement with `coopmail apikeys create`.")


def register(cli: click.Group) -> None:
    cli.add_command(apikeys_group)
