"""`coopmail digest`: the monthly news digest, configured once, built by the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.digest import (
    DigestRun,
    build_issue,
    configure_digest,
    draft_issue,
    list_digests,
    preview_issue,
    refresh_issue,
)
from campaigns.links import Links
from campaigns.models import Digest
from campaigns.news import parse_month
from coopmail.cli import hints
from coopmail.cli.app import App
from coopmail.cli.campaigns_commands import cli_author, write_preview
from coopmail.cli.output import add_row, emit_json, note, out, table
from coopmail.cli.params import ROW_ID
from coopmail.digest_approval import notify_approvers
from coopmail.web.staff_mail import StaffMails
from subscribers.lists import get_list


@click.group("digest")
def digest_group() -> None:
    """A monthly digest of the unit's news that builds (and sends) itself."""


@digest_group.command("configure")
@click.option("--list", "list_name", required=True, help="The list that receives the digest.")
@click.option(
    "--cron",
    required=True,
    metavar="LINE",
    help="When it runs, as a cron line in COOPMAIL_TIMEZONE: '0 9 1 * *' is 09:00 "
    "on the 1st of each month.",
)
@click.option(
    "--auto-send/--draft",
    default=False,
    show_default=True,
    help="Send each issue at once, or leave it as a draft for approval.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def configure(app: App, list_name: str, cron: str, auto_send: bool, as_json: bool) -> None:
    """Set up (or change) the list's digest. `coopmail serve` runs it on schedule."""
    with app.session() as session:
        digest = configure_digest(
            session,
            mailing_list=get_list(session, name=list_name),
            cron=cron,
            auto_send=auto_send,
            timezone=app.settings.timezone,
        )
        result = {"id": digest.id, "list": list_name, "cron": cron, "auto_send": auto_send}
    if as_json:
        emit_json(result)
        return
    mode = "sends each issue" if auto_send else "leaves each issue as a draft for approval"
    note(
        f"The {list_name} digest runs on '{cron}' ({app.settings.timezone}) and {mode}; "
        "each run covers the previous month. Preview one with `coopmail digest preview "
        "--month YYYY-MM`."
    )


@digest_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """The configured digests."""
    with app.session() as session:
        rows = [
            {"id": d.id, "list": d.mailing_list.name, "cron": d.cron, "auto_send": d.auto_send}
            for d in list_digests(session)
        ]
    if as_json:
        emit_json(rows)
        return
    grid = table("id", "list", "cron", "mode")
    for row in rows:
        add_row(
            grid, row["id"], row["list"], row["cron"], "auto-send" if row["auto_send"] else "draft"
        )
    out.print(grid)


@digest_group.command("preview")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month the issue covers.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the issue's .html and .txt here.",
)
@click.pass_obj
def preview(app: App, month: str, output: Path | None) -> None:
    """Show what the issue for a month would contain, without storing or sending anything."""
    year, number = parse_month(month)
    with app.session() as session:
        composition, count = preview_issue(session, year=year, month=number, composer=app.composer)
    click.echo(f"{composition.subject.fill({})} ({count} stories)")
    if output is not None:
        links = Links(
            base_url=app.settings.base_url,
            key=app.settings.require_secret_key().reveal().encode(),
            campaign_id=0,
        )
        token = links.unsubscribe_token(subscriber_id=0, list_id=0)
        values = {
            "name": "Sample Reader",
            "email": "reader@example.org",
            "unsubscribe_url": links.unsubscribe(token=token),
            "preferences_url": links.preferences(subscriber_id=0),
            "view_url": links.view(subscriber_id=0),
        }
        paths = write_preview(
            output,
            f"digest-{month}",
            composition.html.fill(values),
            composition.text.fill(values),
            b"",
        )
        paths[2].unlink()
        note(f"Wrote {paths[0]} and {paths[1]}.")


@digest_group.command("run")
@click.option("--list", "list_name", required=True, help="The list whose digest to build.")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month the issue covers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def run(app: App, list_name: str, month: str, as_json: bool) -> None:
    """Build one month's issue now (as the schedule would; never twice for a month)."""
    year, number = parse_month(month)
    with app.session(write=False) as session:  # the rendering holds no write lock
        digest = _digest(session, list_name)
        drafted = draft_issue(
            session, digest=digest, year=year, month=number, composer=app.composer
        )
    if isinstance(drafted, DigestRun):
        result = drafted
    else:
        with app.session() as session:
            result = build_issue(
                session,
                digest=_digest(session, list_name),
                year=year,
                month=number,
                composer=app.composer,
                sender=app.settings.from_address,
                now=datetime.now(UTC),
                draft=drafted,
            )
    told = notify_approvers(
        app.engine,
        mails=StaffMails(settings=app.settings, unit=lambda: app.composer.unit),
        run=result,
    )
    if as_json:
        emit_json(
            {
                "month": result.month,
                "campaign_id": result.campaign_id,
                "items": result.items,
                "outcome": result.outcome,
                "without_link": list(result.without_link),
                "admins_told": told,
            }
        )
        return
    message = result.message[0].upper() + result.message[1:]
    if result.outcome == "draft" and result.campaign_id is not None:
        message += "; " + hints.for_draft_issue(result.campaign_id)
    note(message + ".")
    if result.without_link:
        note(
            f"Warning: {len(result.without_link)} items have no link, so no “read more”: "
            + "; ".join(result.without_link)
            + ". Give them links before sending; `coopmail news list` shows them."
        )
    if told:
        note(f"Told {told} admins by mail that it waits for their approval.")


@digest_group.command("refresh")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def refresh(app: App, campaign_id: int, as_json: bool) -> None:
    """Read a draft issue's month of news again: links, summaries and stories given since
    it was made reach it; its own text (intro, a rewritten subject) stays."""
    with app.session() as session:
        result = refresh_issue(
            session, campaign_id=campaign_id, author=cli_author(), now=datetime.now(UTC)
        )
    if as_json:
        emit_json(
            {
                "campaign_id": result.campaign_id,
                "month": result.month,
                "items": result.items,
                "changed": result.changed,
                "without_link": list(result.without_link),
            }
        )
        return
    if result.changed:
        note(f"Campaign {campaign_id} has the {result.items} news items of {result.month} again.")
    else:
        note(f"Campaign {campaign_id} already had its news items as they are: nothing changed.")
    if result.without_link:
        note(
            f"Warning: {len(result.without_link)} items still have no link: "
            + "; ".join(result.without_link)
            + ". Give them one with `coopmail news edit ID --link URL`."
        )


def _digest(session: Session, list_name: str) -> Digest:
    mailing_list = get_list(session, name=list_name)
    digest = session.scalar(select(Digest).where(Digest.list_id == mailing_list.id))
    if digest is None:
        raise click.ClickException(
            f"the list {list_name!r} has no digest; set one up with `coopmail digest "
            f"configure --list {list_name} --cron '0 9 1 * *'`"
        )
    return digest


def register(cli: click.Group) -> None:
    cli.add_command(digest_group)
