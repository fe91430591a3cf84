"""`coopmail campaigns versions`: one language version of a campaign at a time, as the
studio's tabs change them (list, add, edit, remove), through the same use cases.

Content is rendered in a read-only session before the write transaction, as `campaigns
edit` does, so that rendering never holds SQLite's write lock."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from campaigns.content import read_content
from campaigns.drafts import get_campaign
from campaigns.editions import summarise_versions
from campaigns.errors import VersionNotFound
from campaigns.versions import (
    add_version,
    apply_version_edit,
    campaign_versions,
    prepare_new_version,
    prepare_version_edit,
    remove_version,
    version_source,
)
from coopmail.cli.app import App
from coopmail.cli.campaigns_commands import campaigns_group, cli_author
from coopmail.cli.output import add_row, emit_json, note, out, table
from coopmail.cli.params import LANGUAGE_TAG, ROW_ID, no_image_check
from subscribers.base import utcnow


@click.group("versions")
def versions_group() -> None:
    """A campaign's versions in other languages, one at a time: list, add, edit, remove."""


_CONTENT_HELP = (
    "A translation as a file: Markdown (.md) or an HTML fragment (.html) whose front matter "
    "has its subject (and preheader, the kind's fields) and names its `language:`."
)


@versions_group.command("list")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, campaign_id: int, as_json: bool) -> None:
    """Each version: the default first, its recipients, when it last changed, and whether
    a translation was last changed before the default (it may no longer say the same)."""
    with app.session(write=False) as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        rows: list[dict[str, Any]] = [
            {
                "language": version.language,
                "default": version.default,
                "subject": version.subject,
                "preheader": version.preheader,
                "source": version.source,
                "updated_at": _iso(version.changed_at),
                "older_than_default": version.older_than_default,
                "recipients": version.recipients,
            }
            for version in summarise_versions(session, composer=app.composer, campaign=campaign)
        ]
    if as_json:
        emit_json(rows)
        return
    zone = ZoneInfo(app.settings.timezone)
    grid = table("version", "recipients", "subject", "changed", "note")
    for row in rows:
        changed = row["updated_at"]
        add_row(
            grid,
            f"{row['language']} (default)" if row["default"] else row["language"],
            f"{row['recipients']:,}",
            row["subject"],
            f"{datetime.fromisoformat(changed).astimezone(zone):%Y-%m-%d %H:%M %Z}"
            if changed
            else "",
            "older than the default" if row["older_than_default"] else "",
        )
    out.print(grid)
    if len(rows) == 1:
        note(
            f"No translations yet; add one with `coopmail campaigns versions add {campaign_id} fr`."
        )


@versions_group.command("source")
@click.argument("campaign_id", type=ROW_ID)
@click.argument("language", type=LANGUAGE_TAG)
@click.pass_obj
def source(app: App, campaign_id: int, language: str) -> None:
    """Print a translation as a file holds it, to edit and save with `versions edit`."""
    with app.session(write=False) as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        versions = campaign_versions(session, campaign=campaign)
    found = next((v for v in versions[1:] if v.language == language), None)
    if found is None:
        if language == versions[0].language:
            raise click.ClickException(
                f"{language} is the default version of campaign {campaign_id}; print it with "
                f"`coopmail campaigns source {campaign_id}`"
            )
        raise VersionNotFound(
            campaign_id=campaign_id, language=language, languages=[v.language for v in versions]
        )
    text = version_source(found)
    click.echo(text, nl=not text.endswith("\n"))


@versions_group.command("add")
@click.argument("campaign_id", type=ROW_ID)
@click.argument("language", type=LANGUAGE_TAG)
@click.option(
    "--content",
    "content_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_CONTENT_HELP + " Without `language:` it is LANGUAGE. Default: a copy of the "
    "default version, to translate.",
)
@no_image_check
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "language"}.')
@click.pass_obj
def add(
    app: App,
    campaign_id: int,
    language: str,
    content_path: Path | None,
    no_image_check: bool,
    as_json: bool,
) -> None:
    """Add a version in LANGUAGE to a draft (or a scheduled campaign).

    With --content it is that file's content; a mistake in it adds nothing."""
    now = utcnow()
    if content_path is None:
        with app.session() as session:
            add_version(
                session, campaign_id=campaign_id, language=language, author=cli_author(), now=now
            )
    else:
        content = read_content(content_path)
        with app.session(write=False) as session:  # render before the write transaction
            campaign = get_campaign(session, campaign_id=campaign_id)
            draft = prepare_new_version(
                session,
                composer=app.composer,
                campaign=campaign,
                content=content,
                language=language,
                images=app.images_beside(content_path, check_remote=not no_image_check),
            )
        with app.session() as session:  # the copy and its content, or neither
            add_version(
                session, campaign_id=campaign_id, language=language, author=cli_author(), now=now
            )
            apply_version_edit(
                session, campaign_id=campaign_id, version=draft, author=cli_author(), now=now
            )
    if as_json:
        emit_json({"id": campaign_id, "language": language})
        return
    if content_path is None:
        note(
            f"Campaign {campaign_id} has a {language} version, a copy of the default to "
            f"translate: `coopmail campaigns versions source {campaign_id} {language} > FILE`, "
            f"then `coopmail campaigns versions edit {campaign_id} --content FILE`."
        )
    else:
        note(f"Campaign {campaign_id} has a {language} version, from {content_path.name}.")


@versions_group.command("edit")
@click.argument("campaign_id", type=ROW_ID)
@click.option(
    "--content",
    "content_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=_CONTENT_HELP,
)
@no_image_check
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"id", "language", "changed", "revision"}.'
)
@click.pass_obj
def edit(
    app: App, campaign_id: int, content_path: Path, no_image_check: bool, as_json: bool
) -> None:
    """Save a translation from a file naming its language; the other versions stay."""
    content = read_content(content_path)
    with app.session(write=False) as session:  # render before the write transaction
        campaign = get_campaign(session, campaign_id=campaign_id)
        draft = prepare_version_edit(
            session,
            composer=app.composer,
            campaign=campaign,
            content=content,
            images=app.images_beside(content_path, check_remote=not no_image_check),
        )
    with app.session() as session:
        stored = apply_version_edit(
            session, campaign_id=campaign_id, version=draft, author=cli_author(), now=utcnow()
        )
    if as_json:
        emit_json(
            {
                "id": campaign_id,
                "language": draft.language,
                "changed": stored is not None,
                "revision": stored.number if stored is not None else None,
            }
        )
    elif stored is not None:
        note(
            f"The {draft.language} version of campaign {campaign_id} is saved as revision "
            f"{stored.number}."
        )
    else:
        note(
            f"The {draft.language} version of campaign {campaign_id} already says this: "
            "nothing changed."
        )


@versions_group.command("remove")
@click.argument("campaign_id", type=ROW_ID)
@click.argument("language", type=LANGUAGE_TAG)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def remove(app: App, campaign_id: int, language: str, yes: bool) -> None:
    """Remove a translation of a draft; its recipients then get the default version."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("removing cannot be undone; pass --yes to confirm")
        click.confirm(
            f"Remove the {language} version of campaign {campaign_id}?", abort=True, err=True
        )
    with app.session() as session:
        remove_version(session, campaign_id=campaign_id, language=language)
    note(f"The {language} version of campaign {campaign_id} is removed.")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def register(cli: click.Group) -> None:
    campaigns_group.add_command(versions_group)
