"""`coopmail campaigns`: compose from a content file, list, show and preview."""

from __future__ import annotations

import getpass
import sys
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from campaigns.bounces import campaign_bounces
from campaigns.checklist import CheckItem, check_campaign
from campaigns.content import read_content
from campaigns.drafts import get_campaign, list_campaigns
from campaigns.editing import apply_edit, delete_draft, prepare_edit
from campaigns.editions import summarise_versions
from campaigns.errors import InvalidSendTime
from campaigns.kinds import KINDS, starter
from campaigns.models import CampaignStatus
from campaigns.outbox import (
    cancel_campaign,
    delivery_counts,
    pause_campaign,
    queue_campaign,
    recent_problems,
    render_for_sending,
    resume_campaign,
)
from campaigns.previews import campaign_variants, preview_edition
from campaigns.report import campaign_report, find_deliveries, progress_snapshot
from campaigns.restoring import apply_restore, prepare_restore
from campaigns.revisions import (
    campaign_source,
    compare_revisions,
    get_revision,
    latest_revision,
    list_revisions,
)
from campaigns.schedule import (
    parse_send_time,
    schedule_at_local_time,
    schedule_campaign,
    unschedule_campaign,
)
from campaigns.trial import send_trial
from campaigns.versions import prepare_in_languages, store_in_languages
from campaigns.worker import Progress as WorkerProgress
from campaigns.zones import ZoneCount, parse_local_time, pending_zones
from coopmail.cli import hints
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, err, interactive, note, out, table
from coopmail.cli.params import LANGUAGE_TAG, ROW_ID, no_image_check
from coopmail.delivery import (
    dkim_domain,
    graceful_stop,
    make_worker,
    sending_identity,
    smtp_settings,
)
from coopmail.sending import processes_for, send_in_processes
from coopmail.spamcheck import spam_scorer
from subscribers.base import utcnow


@click.group("campaigns")
def campaigns_group() -> None:
    """Compose, preview, send, pause, resume, cancel and follow campaigns."""


@campaigns_group.command("create")
@click.option(
    "--content",
    "content_paths",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown (.md) or HTML fragment (.html) with a front-matter header. Repeat it for "
    "each language: the first is the default version, each other one names its `language:`.",
)
@click.option(
    "--template",
    help="The kind of mail (see `coopmail templates list`); default: the front matter's template.",
)
@click.option(
    "--list",
    "list_names",
    multiple=True,
    help="A list to send to; repeatable. Default: the front matter's lists.",
)
@click.option("--subject", help="Default: the front matter's subject (of the default version).")
@click.option(
    "--copy-images",
    is_flag=True,
    help="Copy remote https:// images into the media library instead of linking to them.",
)
@no_image_check
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...} for scripts.')
@click.pass_obj
def create(
    app: App,
    content_paths: tuple[Path, ...],
    template: str | None,
    list_names: tuple[str, ...],
    subject: str | None,
    copy_images: bool,
    no_image_check: bool,
    as_json: bool,
) -> None:
    """Create a draft campaign; template errors are reported now with file and line.

    Local images (relative to their content file) go into the media library and are linked
    by their public URL; remote ones are checked; http:// images are refused."""
    contents = [read_content(path) for path in content_paths]
    images = [
        app.images_beside(path, check_remote=not no_image_check, copy_remote=copy_images)
        for path in content_paths
    ]
    with app.session(write=False) as session:  # render before the write transaction
        prepared = prepare_in_languages(
            session,
            composer=app.composer,
            contents=contents,
            default_sender=app.settings.from_address,
            template=template,
            list_names=list(list_names) or None,
            subject=subject,
            images=images,
            senders=app.settings.senders,
        )
    with app.session() as session:
        campaign_id = store_in_languages(session, prepared=prepared, author=cli_author()).id
    draft = prepared.draft
    for warning in draft.warnings:
        note(f"Warning: {warning}.")
    if as_json:
        emit_json({"id": campaign_id, "warnings": [str(w) for w in draft.warnings]})
    else:
        click.echo(campaign_id)
        languages = [prepared.draft.language, *(v.language for v in prepared.versions)]
        in_languages = f" in {', '.join(languages)}" if len(languages) > 1 else ""
        note(
            f"Created draft campaign {campaign_id}{in_languages}. Next: "
            f"`coopmail campaigns preview {campaign_id} --output preview/`."
        )


@campaigns_group.command("new")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the starter file here (refused if it exists); default: print it.",
)
@click.option("--list", "list_names", multiple=True, help="A list to send to; repeatable.")
def new(kind: str, output: Path | None, list_names: tuple[str, ...]) -> None:
    """Write a starter content file for a kind, every field commented with what it is for."""
    text = starter(KINDS[kind], lists=list_names)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with output.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise click.ClickException(f"{output} exists; choose another name") from None
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    note(
        f"Wrote {output}. Fill in the subject, the lists and the body, then "
        f"`coopmail campaigns create --content {output}`."
    )


def cli_author() -> str:
    """Who saves a revision from the command line: the account running it."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "someone"
    return f"{user} (command line)"


@campaigns_group.command("edit")
@click.argument("campaign_id", type=ROW_ID)
@click.option(
    "--content",
    "content_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new content; what its front matter leaves out stays as it is.",
)
@no_image_check
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "revision", "warnings"}.')
@click.pass_obj
def edit(
    app: App, campaign_id: int, content_path: Path, no_image_check: bool, as_json: bool
) -> None:
    """Replace a draft's (or a scheduled campaign's) content; the old one stays a revision."""
    content = read_content(content_path)
    with app.session(write=False) as session:  # render before the write transaction
        campaign = get_campaign(session, campaign_id=campaign_id)
        draft = prepare_edit(
            session,
            composer=app.composer,
            campaign=campaign,
            content=content,
            senders=app.settings.senders,
            images=app.images_beside(content_path, check_remote=not no_image_check),
        )
    with app.session() as session:
        saved = apply_edit(
            session, campaign_id=campaign_id, draft=draft, author=cli_author(), now=utcnow()
        )
        current = saved.stored or latest_revision(session, campaign_id=campaign_id)
        number = current.number if current is not None else None  # older than revisions
    for warning in draft.warnings:
        note(f"Warning: {warning}.")
    if as_json:
        emit_json(
            {
                "id": campaign_id,
                "revision": number,
                "changed": saved.stored is not None,
                "warnings": [str(w) for w in draft.warnings],
            }
        )
        return
    if saved.stored is None:
        kept = f" (revision {number})" if number is not None else ""
        note(f"Campaign {campaign_id} already says this: nothing changed{kept}.")
        return
    number = saved.stored.number
    note(
        f"Campaign {campaign_id} is saved as revision {number}. See the changes with "
        f"`coopmail campaigns diff {campaign_id} {number - 1} {number}`."
        if number > 1
        else f"Campaign {campaign_id} is saved as revision {number}."
    )


@campaigns_group.command("delete")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def delete(app: App, campaign_id: int, yes: bool) -> None:
    """Delete a draft and its revisions; a campaign once queued is kept for its records."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("deleting cannot be undone; pass --yes to confirm")
        click.confirm(f"Delete draft campaign {campaign_id}?", abort=True, err=True)
    with app.session() as session:
        delete_draft(session, campaign_id=campaign_id)
    note(f"Draft campaign {campaign_id} is deleted.")


@campaigns_group.command("source")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--revision", "number", type=click.IntRange(1), help="An earlier revision.")
@click.pass_obj
def source(app: App, campaign_id: int, number: int | None) -> None:
    """Print a campaign's content as a file holds it, to edit and save with `edit`."""
    with app.session(write=False) as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        if number is None:
            text = campaign_source(campaign)
        else:
            text = get_revision(session, campaign_id=campaign_id, number=number).source
    click.echo(text, nl=not text.endswith("\n"))


@campaigns_group.command("revisions")
@click.argument("campaign_id", type=ROW_ID)
@click.option(
    "--language",
    type=LANGUAGE_TAG,
    help="A translation's revisions (default: the default version's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def revisions(app: App, campaign_id: int, language: str | None, as_json: bool) -> None:
    """Every saved version of a campaign: who saved it and when.

    The default version's, or with --language a translation's; all are numbered in one
    sequence, so `diff` and `restore` need only the numbers."""
    with app.session(write=False) as session:
        get_campaign(session, campaign_id=campaign_id)
        rows: list[dict[str, Any]] = [
            {
                "number": r.number,
                "language": r.language,
                "author": r.author or None,
                "created_at": r.created_at.isoformat(),
                "restored_from": r.restored_from,
            }
            for r in list_revisions(session, campaign_id=campaign_id, language=language)
        ]
    if as_json:
        emit_json(rows)
        return
    zone = ZoneInfo(app.settings.timezone)
    grid = table("revision", "saved", "by", "note")
    for row in rows:
        saved = datetime.fromisoformat(row["created_at"]).astimezone(zone)
        restored = row["restored_from"]
        add_row(
            grid,
            row["number"],
            f"{saved:%Y-%m-%d %H:%M %Z}",
            row["author"] or "unknown",
            f"restored revision {restored}" if restored else "",
        )
    out.print(grid)


@campaigns_group.command("diff")
@click.argument("campaign_id", type=ROW_ID)
@click.argument("old", type=click.IntRange(1))
@click.argument("new", type=click.IntRange(1))
@click.pass_obj
def diff(app: App, campaign_id: int, old: int, new: int) -> None:
    """What changed between two revisions of one version, as a unified diff."""
    with app.session(write=False) as session:
        result = compare_revisions(session, campaign_id=campaign_id, old=old, new=new)
    if not result.lines:
        note(f"Revisions {old} and {new} are the same.")
        return
    click.echo(result.text, nl=False)


@campaigns_group.command("restore")
@click.argument("campaign_id", type=ROW_ID)
@click.argument("number", type=click.IntRange(1))
@click.pass_obj
def restore(app: App, campaign_id: int, number: int) -> None:
    """Bring back an earlier revision, saved as the newest one (nothing is lost).

    Only the version the revision is of changes: the default one, or a translation."""
    with app.session(write=False) as session:
        prepared = prepare_restore(
            session,
            composer=app.composer,
            campaign_id=campaign_id,
            number=number,
            senders=app.settings.senders,
        )
    with app.session() as session:
        stored = apply_restore(
            session,
            campaign_id=campaign_id,
            prepared=prepared,
            author=cli_author(),
            now=utcnow(),
        )
    which = f"Campaign {campaign_id}"
    if prepared.language is not None:
        which = f"The {prepared.language} version of campaign {campaign_id}"
    note(f"{which} has revision {number}'s content again, as revision {stored.number}.")


_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skipped": "skip"}


@campaigns_group.command("check")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON for scripts.")
@click.pass_obj
def check(app: App, campaign_id: int, as_json: bool) -> None:
    """The checklist before sending, computed from the message as it would go out.

    Exits with status 1 when an item fails."""
    key = app.settings.require_secret_key().reveal().encode()
    with app.session(write=False) as session:
        result = check_campaign(
            session,
            composer=app.composer,
            campaign_id=campaign_id,
            base_url=app.settings.base_url,
            key=key,
            now=utcnow(),
            dkim_domain=dkim_domain(app.settings),
            spam_scorer=spam_scorer(),
        )
    if as_json:
        emit_json({"id": campaign_id, "items": [item.as_json() for item in result.items]})
    else:
        for item in result.items:
            click.echo(f"{_MARKS[item.verdict.value]}  {check_words(item)}")
    if result.failed:
        raise SystemExit(1)


def _subject_words(ok: bool, d: dict[str, Any]) -> str:
    if not d["subject"]:
        return "no subject"
    return "subject and preheader are set" if ok else "no preheader: add `preheader:`"


def _dkim_words(ok: bool, d: dict[str, Any]) -> str:
    if d["signing_domain"] is None:
        return "no DKIM key is configured (dkim_selector, dkim_key_file)"
    if ok:
        return f"DKIM signs for {d['signing_domain']}, the sender's domain"
    return f"DKIM signs for {d['signing_domain']}, not the sender's {d['sender_domain']}"


def _image_words(ok: bool, d: dict[str, Any]) -> str:
    if ok:
        return f"every image has alt text ({d['images']} images)"
    return "images without alt text: " + ", ".join(d["without_alt"])


def _link_words(ok: bool, d: dict[str, Any]) -> str:
    if d["malformed"]:
        bad = ", ".join(f"{b['href']} ({b['problem']})" for b in d["malformed"])
        return f"malformed links: {bad}"
    if d["not_https"]:
        return "links without https: " + ", ".join(d["not_https"])
    return f"all {d['links']} links are well formed"


def _recipient_words(ok: bool, d: dict[str, Any]) -> str:
    lists = ", ".join(f"{row['list']} {row['recipients']:,}" for row in d["lists"])
    return f"{d['total']:,} recipients after suppressions ({lists})"


def _digest_words(ok: bool, d: dict[str, Any]) -> str:
    if ok:
        return "every digest item has a link"
    return "digest items without a link (no “read more”): " + "; ".join(d["without_link"])


def _spam_words(ok: bool, d: dict[str, Any]) -> str:
    if "reason" in d:
        if d["reason"] == "not_installed":
            return "SpamAssassin is not installed: no spam score"
        return "SpamAssassin gave no verdict: no spam score"
    rules = f" ({', '.join(d['rules'])})" if d["rules"] else ""
    return f"SpamAssassin score {d['score']} of {d['required']}{rules}"


_CHECK_WORDS: dict[str, Callable[[bool, dict[str, Any]], str]] = {
    "subject_and_preheader": _subject_words,
    "dkim": _dkim_words,
    "image_alt_text": _image_words,
    "unsubscribe_link": lambda ok, d: (
        "the unsubscribe link is in both parts" if ok else "the unsubscribe link is missing"
    ),
    "links": _link_words,
    "recipients": _recipient_words,
    "digest_item_links": _digest_words,
    "spam_score": _spam_words,
}


def check_words(item: CheckItem) -> str:
    """One line per checklist item, as staff read it."""
    return _CHECK_WORDS[item.name](item.verdict.value == "ok", item.detail)


@campaigns_group.command("report")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--search", "address", help="Show the outbox rows whose address contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def report(app: App, campaign_id: int, address: str | None, as_json: bool) -> None:
    """How a campaign went: delivered, failed, bounced, complaints, unsubscribes, by domain.

    While it sends, the progress: rate, time left and the latest problems."""
    with app.session(write=False) as session:
        snapshot = progress_snapshot(session, campaign_id=campaign_id, now=utcnow())
        result = campaign_report(session, campaign_id=campaign_id)
        rows = (
            find_deliveries(session, campaign_id=campaign_id, address=address, limit=200)
            if address
            else []
        )
    if as_json:
        data = {**result.as_json(), "progress": snapshot.as_json()}
        if address:
            data["deliveries"] = [row.as_json() for row in rows]
        emit_json(data)
        return
    if snapshot.status in ("sending", "paused"):
        left = (
            f", about {round(snapshot.seconds_left / 60)} min left"
            if snapshot.seconds_left is not None
            else ""
        )
        note(
            f"Campaign {campaign_id} is {snapshot.status}: {snapshot.done:,} of "
            f"{snapshot.total:,} done, {snapshot.rate_per_second:,.1f} messages a second{left}."
        )
        for problem in snapshot.problems:
            note(f"  {problem['state']}: {problem['email'] or '(erased)'}: {problem['reply']}")
    _note_zones(
        app,
        local_send_time=snapshot.local_send_time,
        pending=snapshot.zones_pending,
        fallbacks=snapshot.zone_fallbacks,
    )
    columns = ("recipients", "delivered", "failed", "skipped", "hard", "soft")
    grid = table("domain", *columns, "complaints", "unsubscribes")
    for row in [{"domain": "all", **result.totals}, *result.domains[:20]]:
        add_row(
            grid,
            row["domain"],
            *(f"{row[c]:,}" for c in columns),
            row["complaints"],
            row["unsubscribes"],
        )
    out.print(grid)
    if len(result.domains) > 20:
        note(f"{len(result.domains) - 20} more domains; --json lists them all.")
    if address:
        found = table("email", "state", "attempts", "last reply")
        for delivery in rows:
            add_row(
                found,
                delivery.email or "(erased)",
                delivery.state,
                delivery.attempts,
                f"{delivery.last_code or ''} {delivery.last_reply}".strip(),
            )
        out.print(found)
        if not rows:
            note(f"No recipient of campaign {campaign_id} has an address containing {address!r}.")


@campaigns_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, limit: int, as_json: bool) -> None:
    """Show the newest campaigns."""
    with app.session() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "subject": c.subject,
                "template": c.template,
                "lists": [ml.name for ml in c.lists],
                "status": c.status.value,
                "created_at": c.created_at.isoformat(),
            }
            for c in list_campaigns(session, limit=limit)
        ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        note("No campaigns yet. Create one with `coopmail campaigns create --content FILE`.")
        return
    grid = table("id", "status", "template", "lists", "subject", "created")
    for row in rows:
        add_row(
            grid,
            row["id"],
            row["status"],
            row["template"],
            ", ".join(row["lists"]),
            row["subject"],
            row["created_at"][:16].replace("T", " "),
        )
    out.print(grid)


@campaigns_group.command("show")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def show(app: App, campaign_id: int, as_json: bool) -> None:
    """Show one campaign's settings and status, and its versions with their recipients."""
    with app.session() as session:
        c = get_campaign(session, campaign_id=campaign_id)
        versions = [
            {
                "language": version.language,
                "default": version.default,
                "subject": version.subject,
                "source": version.source,
                "recipients": version.recipients,
            }
            for version in summarise_versions(session, composer=app.composer, campaign=c)
        ]
        data = {
            "id": c.id,
            "subject": c.subject,
            "preheader": c.preheader,
            "template": c.template,
            "lists": [ml.name for ml in c.lists],
            "from": c.from_address,
            "reply_to": c.reply_to,
            "language": c.language,
            "status": c.status.value,
            "source": c.source_name,
            "created_at": c.created_at.isoformat(),
            "updated_at": c.updated_at.isoformat(),
        }
    if as_json:
        emit_json({**data, "versions": versions})
        return
    grid = table("field", "value")
    for key, value in data.items():
        add_row(grid, key, ", ".join(value) if isinstance(value, list) else value)
    out.print(grid)
    languages = table("version", "recipients", "subject", "source")
    for version in versions:
        label = f"{version['language']} (default)" if version["default"] else version["language"]
        add_row(languages, label, version["recipients"], version["subject"], version["source"])
    out.print(languages)


@campaigns_group.command("variants")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def variants(app: App, campaign_id: int, as_json: bool) -> None:
    """List each version's variants (what its `{% if %}` conditions test) and recipients."""
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        found = campaign_variants(session, composer=app.composer, campaign=campaign)
    rows: list[dict[str, Any]] = [
        {
            "language": v.language,
            "variant": v.index,
            "values": v.values,
            "recipients": v.recipients,
        }
        for v in found
    ]
    if as_json:
        emit_json(rows)
        return
    grid = table("version", "variant", "recipients", "tested values")
    for row in rows:
        values = ", ".join(f"{k} = {v!r}" for k, v in row["values"].items()) or "(no conditions)"
        add_row(grid, row["language"], row["variant"], row["recipients"], values)
    out.print(grid)
    note(
        f"Preview one with `coopmail campaigns preview {campaign_id} --language LANG "
        "--variant N --output preview/`."
    )


@campaigns_group.command("preview")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--to", "to", help="Preview as this subscriber (default: the first confirmed one).")
@click.option(
    "--language",
    help="The version in this language (default: the one the recipient would get).",
)
@click.option(
    "--variant",
    type=click.IntRange(0, None),
    help="This variant of the version, as one of its recipients (see `campaigns variants`).",
)
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the .html, .txt and .eml files.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@click.pass_obj
def preview(
    app: App,
    campaign_id: int,
    to: str | None,
    language: str | None,
    variant: int | None,
    output: Path,
    open_browser: bool,
) -> None:
    """Write the campaign as one recipient would get it: HTML, text and the whole message."""
    key = app.settings.require_secret_key().reveal().encode()
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        result = preview_edition(
            session,
            composer=app.composer,
            campaign=campaign,
            base_url=app.settings.base_url,
            key=key,
            now=datetime.now(UTC),
            to=to,
            language=language,
            variant=variant,
        )
    stem = f"campaign-{campaign_id}" + (f"-{language}" if language else "")
    stem += f"-variant-{variant}" if variant is not None else ""
    paths = write_preview(output, stem, result.html, result.text, result.message)
    for path in paths:
        click.echo(path)
    note(
        f"Preview for {result.recipient.email}. Open {paths[0]} in a browser, or {paths[2]} "
        "in a mail program."
    )
    if open_browser:
        webbrowser.open(paths[0].resolve().as_uri())


def write_preview(output: Path, stem: str, html: str, text: str, message: bytes) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    paths = [output / f"{stem}.html", output / f"{stem}.txt", output / f"{stem}.eml"]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    paths[2].write_bytes(message)
    return paths


def register(cli: click.Group) -> None:
    cli.add_command(campaigns_group)


@campaigns_group.command("send")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--detach", is_flag=True, help="Queue it and leave the sending to running workers.")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="SMTP connections of each delivery process in the foreground.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Delivery processes in the foreground. Default: one per core (fewer for a small send).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for scripts.")
@click.pass_obj
def send(
    app: App, campaign_id: int, detach: bool, concurrency: int, workers: int | None, as_json: bool
) -> None:
    """Send a campaign to its lists: queue every recipient, then deliver them.

    In the foreground it shows progress until every message is sent, failed or skipped;
    Ctrl-C (or --detach) leaves the rest to `coopmail worker`, without losing anything.
    """
    settings = app.settings
    settings.require_secret_key()
    if not detach:
        smtp_settings(settings)  # refuse before queueing when there is no relay
    rendering = None
    with app.session(write=False) as session:  # the slow rendering holds no write lock
        campaign = get_campaign(session, campaign_id=campaign_id)
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            rendering = render_for_sending(app.composer, campaign)
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        if campaign.status is not CampaignStatus.SENDING:
            queued = queue_campaign(
                session,
                campaign=campaign,
                composer=app.composer,
                now=datetime.now(UTC),
                rendering=rendering,
            )
            note(f"Queued {queued} recipients of campaign {campaign_id}.")
    if detach:
        _print_counts(app, campaign_id, as_json)
        note("Running workers (`coopmail worker`) will send it.")
        return
    with app.session() as session:
        counts = delivery_counts(session, campaign_id=campaign_id)
    total = sum(counts.values())
    done_before = counts["sent"] + counts["failed"] + counts["skipped"]
    processes = processes_for(remaining=total - done_before, requested=workers)
    with graceful_stop() as stop, _send_progress(total, done_before) as on_progress:
        if processes == 1:
            progress = make_worker(
                engine=app.engine,
                settings=settings,
                concurrency=concurrency,
                campaign_ids=(campaign_id,),
                until_done=True,
                stop=stop,
                on_progress=on_progress,
            ).run()
        else:
            shared = send_in_processes(
                database_url=app.engine.url.render_as_string(hide_password=False),
                settings=settings,
                smtp=smtp_settings(settings),  # a capture:// relay runs in this process
                concurrency=concurrency,
                campaign_ids=(campaign_id,),
                processes=processes,
                stop=stop,
                on_progress=on_progress,
            )
            progress = shared.total
            for failure in shared.failures:
                note(failure)
            note(
                f"Delivered by {processes} processes, sent "
                + " + ".join(str(part.sent) for part in shared.per_process)
                + "."
            )
    for paused in progress.paused:
        note(f"{paused}; {hints.for_pause(paused.campaign_id)}")
    status = _print_counts(app, campaign_id, as_json)
    if stop.is_set() and status == "sending":
        note("Stopped; the rest is queued. Run `coopmail worker` or send again to continue.")
    if status == "paused":
        raise SystemExit(1)


@campaigns_group.command("pause")
@click.argument("campaign_id", type=ROW_ID)
@click.pass_obj
def pause(app: App, campaign_id: int) -> None:
    """Stop handing out this campaign's messages (at once; in-flight ones finish)."""
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        pause_campaign(session, campaign=campaign, reason="paused by staff")
    note(
        f"Campaign {campaign_id} is paused. Resume with `coopmail campaigns resume {campaign_id}`."
    )


@campaigns_group.command("resume")
@click.argument("campaign_id", type=ROW_ID)
@click.pass_obj
def resume(app: App, campaign_id: int) -> None:
    """Carry on sending a paused campaign, exactly where it stopped."""
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        resume_campaign(session, campaign=campaign)
    note(
        f"Campaign {campaign_id} is sending again; workers pick it up (`coopmail worker`, "
        f"or `coopmail campaigns send {campaign_id}` in the foreground)."
    )


@campaigns_group.command("cancel")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_obj
def cancel(app: App, campaign_id: int, yes: bool) -> None:
    """Stop for good: messages not yet sent are skipped."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("cancelling cannot be undone; pass --yes to confirm")
        click.confirm(f"Cancel campaign {campaign_id}?", abort=True, err=True)
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        skipped = cancel_campaign(session, campaign=campaign, now=datetime.now(UTC))
        sent = delivery_counts(session, campaign_id=campaign_id)["sent"]
    note(f"Campaign {campaign_id} is cancelled; {cancelled_words(sent=sent, skipped=skipped)}.")


def messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count:,} messages"


def cancelled_words(*, sent: int, skipped: int) -> str:
    """What a cancel stopped, as one would say it."""
    if sent == 0:
        return "no message had been sent"
    had = f"{messages(sent)} had been sent"
    if skipped == 0:
        return f"{had}, and none was left to send"
    return f"{had}; the other {skipped:,} will not be"


@campaigns_group.command("status")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def status_command(app: App, campaign_id: int, as_json: bool) -> None:
    """Where a campaign stands: its state and its messages counted by state."""
    _print_counts(app, campaign_id, as_json, detailed=True)


@campaigns_group.command("test")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--to", "to", required=True, help="Where the test message goes.")
@click.pass_obj
def test(app: App, campaign_id: int, to: str) -> None:
    """Send one test message (subject marked [Test]) through the relay, now."""
    settings = app.settings
    identity = sending_identity(settings)
    smtp = smtp_settings(settings)
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        result = send_trial(
            session,
            composer=app.composer,
            campaign=campaign,
            to=to,
            identity=identity,
            smtp=smtp,
            now=datetime.now(UTC),
        )
    if result.outcome.value != "sent":
        raise click.ClickException(
            f"the relay did not accept the test message: {result.code or ''} {result.reply}"
        )
    note(f"Sent a test of campaign {campaign_id} to {to} ({result.code} {result.reply}).")


def _print_counts(app: App, campaign_id: int, as_json: bool, *, detailed: bool = False) -> str:
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        counts = delivery_counts(session, campaign_id=campaign_id)
        problems = recent_problems(session, campaign_id=campaign_id) if detailed else []
        bounces = campaign_bounces(session, campaign_id=campaign_id) if detailed else None
        scheduled = campaign.scheduled_at
        local_send_time = campaign.local_send_time
        pending = (
            pending_zones(session, campaign_id=campaign_id, now=utcnow())
            if local_send_time is not None
            else []
        )
        data: dict[str, Any] = {
            "id": campaign.id,
            "status": campaign.status.value,
            "reason": campaign.status_reason or None,
            "scheduled_at": scheduled.isoformat() if scheduled else None,
            **counts,
            "total": sum(counts.values()),
            "local_send_time": local_send_time,
            "zones_pending": [zone.as_json() for zone in pending],
            "zone_fallbacks": campaign.zone_fallbacks,
        }
    if detailed:
        data["problems"] = problems
        data["bounces"] = bounces
    if as_json:
        emit_json(data)
        return str(data["status"])
    grid = table("campaign", "status", "queued", "sending", "sent", "failed", "skipped", "total")
    add_row(
        grid,
        campaign_id,
        data["status"],
        counts["queued"],
        counts["sending"],
        counts["sent"],
        counts["failed"],
        counts["skipped"],
        data["total"],
    )
    out.print(grid)
    if scheduled is not None and local_send_time is None:
        zone = ZoneInfo(app.settings.timezone)
        note(f"scheduled for {scheduled.astimezone(zone):%Y-%m-%d %H:%M %Z}")
    _note_zones(
        app,
        local_send_time=None if data["status"] == CampaignStatus.SCHEDULED else local_send_time,
        pending=pending,
        fallbacks=int(data["zone_fallbacks"]),
    )
    if scheduled is not None and local_send_time is not None:
        note(
            f"scheduled for {_wall(local_send_time)} in each partner's time zone, starting "
            f"{scheduled.astimezone(ZoneInfo(app.settings.timezone)):%Y-%m-%d %H:%M %Z}"
        )
    if data["reason"]:
        next_step = hints.for_campaign(
            campaign_id=campaign_id, status=CampaignStatus(data["status"]), reason=data["reason"]
        )
        note(f"{data['reason']}; {next_step}" if next_step else str(data["reason"]))
    for problem in problems:
        note(f"  {problem['state']}: {problem['email'] or '(erased)'}: {problem['reply']}")
    if bounces is not None and bounces["latest"] is not None:
        latest = bounces["latest"]
        note(
            f"bounces: {bounces['hard']} hard, {bounces['soft']} soft, "
            f"{bounces['complaint']} complaints, {bounces['unsubscribe']} unsubscribes by mail; "
            f"latest {latest['received_at'][:16]} {latest['kind']} "
            f"{latest['email'] or '(unknown)'}: {latest['diagnostic'][:120]}"
        )
    return str(data["status"])


def _wall(local_send_time: str) -> str:
    return local_send_time.replace("T", " ")


def _note_zones(
    app: App, *, local_send_time: str | None, pending: list[ZoneCount], fallbacks: int
) -> None:
    """A send at a local hour: the zones still waiting for it, and whose zone was unreadable."""
    if local_send_time is None:
        return
    zone = ZoneInfo(app.settings.timezone)
    if pending:
        note(f"sent at {_wall(local_send_time)} in each partner's time zone; zones pending:")
        for waiting in pending:
            note(
                f"  {waiting.zone}: {waiting.recipients:,} at "
                f"{waiting.release_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
            )
    else:
        note(f"sent at {_wall(local_send_time)} in each partner's time zone; no zone pending")
    if fallbacks:
        note(
            f"{fallbacks:,} recipients had a timezone attribute that names no zone; they get "
            "the hour in their list's zone (or the unit's)"
        )


class _send_progress:
    """A live bar with the send rate, on a terminal only."""

    def __init__(self, total: int, done_before: int) -> None:
        self._total, self._before = total, done_before
        self._bar: Progress | None = None
        if interactive() and total:
            self._bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:,.0f} msg/s"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self._task = self._bar.add_task("send", total=total, completed=done_before, rate=0.0)

    def __enter__(self) -> Callable[[WorkerProgress], None]:
        if self._bar is not None:
            self._bar.start()
        return self

    def __call__(self, progress: WorkerProgress) -> None:
        if self._bar is not None:
            done = self._before + progress.sent + progress.failed + progress.skipped
            self._bar.update(self._task, completed=done, rate=progress.rate)

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@campaigns_group.command("schedule")
@click.argument("campaign_id", type=ROW_ID)
@click.option(
    "--at",
    "at",
    required=True,
    metavar="TIME",
    help="ISO 8601, e.g. 2026-12-01T09:00+01:00; without an offset, the time is in "
    "COOPMAIL_TIMEZONE.",
)
@click.option(
    "--each-local-time",
    "each_local_time",
    is_flag=True,
    help="Send at that hour in each partner's own time zone (their `timezone` attribute, "
    "else their list's, else COOPMAIL_TIMEZONE); --at then has no offset. Refused if that "
    "hour has already passed in any of their zones.",
)
@click.pass_obj
def schedule(app: App, campaign_id: int, at: str, each_local_time: bool) -> None:
    """Send a campaign at a given time (again to move it). `coopmail serve` sends it then."""
    zone = ZoneInfo(app.settings.timezone)
    if each_local_time:
        _schedule_each_local_time(app, campaign_id, at)
        return
    try:
        moment = parse_send_time(at, zone=app.settings.timezone)
    except InvalidSendTime as error:
        raise click.BadParameter(str(error), param_hint="--at") from None
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        schedule_campaign(session, campaign=campaign, at=moment, now=datetime.now(UTC))
    local = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    note(
        f"Campaign {campaign_id} will be sent at {local} by the running `coopmail serve` "
        f"(late by up to {app.settings.misfire_grace // 60} min after downtime, never more)."
    )


def _schedule_each_local_time(app: App, campaign_id: int, at: str) -> None:
    try:
        wall = parse_local_time(at)
    except InvalidSendTime as error:
        raise click.BadParameter(str(error), param_hint="--at") from None
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        census = schedule_at_local_time(
            session,
            campaign=campaign,
            wall=wall,
            unit_zone=app.settings.timezone,
            now=datetime.now(UTC),
        )
    zone = ZoneInfo(app.settings.timezone)
    note(
        f"Campaign {campaign_id} will be sent at {wall:%Y-%m-%d %H:%M} in each partner's time "
        "zone by the running `coopmail serve`, zone by zone:"
    )
    for counted in census.zones:
        note(
            f"  {counted.zone}: {counted.recipients:,} at "
            f"{counted.release_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
        )
    if census.fallbacks:
        note(
            f"{census.fallbacks:,} recipients have a timezone attribute that names no zone; "
            "they get the hour in their list's zone (or the unit's)."
        )


@campaigns_group.command("unschedule")
@click.argument("campaign_id", type=ROW_ID)
@click.pass_obj
def unschedule(app: App, campaign_id: int) -> None:
    """Take a scheduled campaign back to draft."""
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        unschedule_campaign(session, campaign=campaign)
    note(f"Campaign {campaign_id} is a draft again.")
