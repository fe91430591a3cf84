"""`coopmail config`: show the effective settings, make a secret key."""

from __future__ import annotations

import secrets

import click
from rich.text import Text

from coopmail.cli.app import App
from coopmail.cli.output import emit_json, out
from coopmail.config import OPTIONS


@click.group("config")
def config_group() -> None:
    """Inspect the configuration (COOPMAIL_* variables and coopmail.toml)."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def show(app: App, as_json: bool) -> None:
    """Print the effective configuration, secrets masked, and where each value came from."""
    settings = app.settings
    values = settings.masked()
    if as_json:
        emit_json({"settings": values, "sources": dict(settings.sources)})
        return
    helps = {option.key: option.help for option in OPTIONS}
    for key, value in values.items():
        out.print(Text.assemble((key, "bold"), f" = {value}"))
        out.print(f"    from {settings.sources[key]}; {helps[key]}", style="dim", markup=False)


@config_group.command("new-secret-key")
def new_secret_key() -> None:
    """Print a fresh random key for COOPMAIL_SECRET_KEY (keep it secret, keep it stable)."""
    click.echo(secrets.token_urlsafe(32))


def register(cli: click.Group) -> None:
    cli.add_command(config_group)
