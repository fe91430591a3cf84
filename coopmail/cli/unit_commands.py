"""`coopmail unit show` and `coopmail unit set`: the unit's texts per language, as the admin's
settings page sets them (coopmail.unit_texts), over unit.toml."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from coopmail.cli.app import App
from coopmail.cli.output import emit_json, note
from coopmail.staff.roles import Actor
from coopmail.unit_texts import FIELDS, set_unit_texts, stored_unit_texts
from subscribers.languages import LANGUAGES


@click.group("unit")
def unit_group() -> None:
    """The unit's name, department, address, about text, place and signature."""


@unit_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def show(app: App, as_json: bool) -> None:
    """What mails and pages say in each language, and which texts are set here."""
    with app.session(write=False) as session:
        stored = stored_unit_texts(session)
    unit = app.composer.file_unit.with_texts(stored)
    shown: dict[str, Any] = {
        code: {
            "texts": {key: _plain(value) for key, value in unit.said_in(code).items()},
            "set": sorted(stored.get(code, {})),
        }
        for code in LANGUAGES
    }
    if as_json:
        emit_json(shown)
        return
    for code, said in shown.items():
        click.echo(f"[{code}]")
        for key in FIELDS:
            value = said["texts"][key]
            text = " / ".join(value) if isinstance(value, list) else value
            mark = "  (set here)" if key in said["set"] else ""
            click.echo(f"  {key}: {text}{mark}")


@unit_group.command("set")
@click.option(
    "--language", required=True, type=click.Choice(LANGUAGES), help="The language of the texts."
)
@click.option("--name", help="The unit's name; an empty value unsets it.")
@click.option("--department", help="Its department.")
@click.option("--address-line", "address_lines", multiple=True, help="One line of the address.")
@click.option("--about", help="The about paragraph of every mail's footer.")
@click.option("--place", help="Where letters are written from.")
@click.option("--signature-line", "signature", multiple=True, help="One line of the signature.")
@click.pass_obj
def set_command(
    app: App,
    language: str,
    name: str | None,
    department: str | None,
    address_lines: tuple[str, ...],
    about: str | None,
    place: str | None,
    signature: tuple[str, ...],
) -> None:
    """Set texts in one language (those not given stay as they are); mails and pages of a
    running `coopmail serve` use them within seconds."""
    given: dict[str, str | list[str] | None] = {
        "name": name,
        "department": department,
        "about": about,
        "place": place,
        "address_lines": list(address_lines) or None,
        "signature": list(signature) or None,
    }
    texts = {key: value for key, value in given.items() if value is not None}
    if not texts:
        raise click.UsageError("give at least one text, such as --name")
    with app.session() as session:
        stored = set_unit_texts(
            session,
            actor=Actor.system(),
            language=language,
            texts=texts,
            now=datetime.now(UTC),
        )
    kept = ", ".join(sorted(stored)) or "none"
    note(f"The unit's texts in {language} are saved; set here: {kept}.")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def register(cli: click.Group) -> None:
    cli.add_command(unit_group)
