"""`coopmail campaigns`: compose from a content file, list, show and preview."""

from __future__ import annotations

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
from campaigns.content import read_content
from campaigns.drafts import create_campaign, get_campaign, list_campaigns, preview_campaign
from campaigns.models import CampaignStatus
from campaigns.outbox import (
    cancel_campaign,
    delivery_counts,
    pause_campaign,
    queue_campaign,
    recent_problems,
    resume_campaign,
)
from campaigns.schedule import schedule_campaign, unschedule_campaign
from campaigns.trial import send_trial
from campaigns.worker import Progress as WorkerProgress
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, err, interactive, note, out, table
from coopmail.delivery import graceful_stop, make_worker, sending_identity, smtp_settings


@click.group("campaigns")
def campaigns_group() -> None:
    """Compose, preview, send, pause, resume, cancel and follow campaigns."""


@campaigns_group.command("create")
@click.option(
    "--content",
    "content_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown (.md) or HTML fragment (.html) with a front-matter header.",
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
@click.option("--subject", help="Default: the front matter's subject.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...} for scripts.')
@click.pass_obj
def create(
    app: App,
    content_path: Path,
    template: str | None,
    list_names: tuple[str, ...],
    subject: str | None,
    as_json: bool,
) -> None:
    """Create a draft campaign; template errors are reported now with file and line."""
    with app.session() as session:
        campaign = create_campaign(
            session,
            composer=app.composer,
            content=read_content(content_path),
            default_sender=app.settings.from_address,
            template=template,
            list_names=list(list_names) or None,
            subject=subject,
        )
        campaign_id = campaign.id
    if as_json:
        emit_json({"id": campaign_id})
    else:
        click.echo(campaign_id)
        note(
            f"Created draft campaign {campaign_id}. Next: "
            f"`coopmail campaigns preview {campaign_id} --output preview/`."
        )


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
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def show(app: App, campaign_id: int, as_json: bool) -> None:
    """Show one campaign's settings and status."""
    with app.session() as session:
        c = get_campaign(session, campaign_id=campaign_id)
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
        emit_json(data)
        return
    grid = table("field", "value")
    for key, value in data.items():
        add_row(grid, key, ", ".join(value) if isinstance(value, list) else value)
    out.print(grid)


@campaigns_group.command("preview")
@click.argument("campaign_id", type=int)
@click.option("--to", "to", help="Preview as this subscriber (default: the first confirmed one).")
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the .html, .txt and .eml files.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@click.pass_obj
def preview(app: App, campaign_id: int, to: str | None, output: Path, open_browser: bool) -> None:
    """Write the campaign as one recipient would get it: HTML, text and the whole message."""
    key = app.settings.require_secret_key().reveal().encode()
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        result = preview_campaign(
            session,
            composer=app.composer,
            campaign=campaign,
            base_url=app.settings.base_url,
            key=key,
            now=datetime.now(UTC),
            to=to,
        )
    paths = write_preview(
        output, f"campaign-{campaign_id}", result.html, result.text, result.message
    )
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
@click.argument("campaign_id", type=int)
@click.option("--detach", is_flag=True, help="Queue it and leave the sending to running workers.")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="SMTP connections used in the foreground.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for scripts.")
@click.pass_obj
def send(app: App, campaign_id: int, detach: bool, concurrency: int, as_json: bool) -> None:
    """Send a campaign to its lists: queue every recipient, then deliver them.

    In the foreground it shows progress until every message is sent, failed or skipped;
    Ctrl-C (or --detach) leaves the rest to `coopmail worker`, without losing anything.
    """
    settings = app.settings
    settings.require_secret_key()
    if not detach:
        smtp_settings(settings)  # refuse before queueing when there is no relay
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        if campaign.status is not CampaignStatus.SENDING:
            queued = queue_campaign(
                session, campaign=campaign, composer=app.composer, now=datetime.now(UTC)
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
    with graceful_stop() as stop, _send_progress(total, done_before) as on_progress:
        worker = make_worker(
            engine=app.engine,
            settings=settings,
            concurrency=concurrency,
            campaign_ids=(campaign_id,),
            until_done=True,
            stop=stop,
            on_progress=on_progress,
        )
        progress = worker.run()
    for reason in progress.paused:
        note(reason)
    status = _print_counts(app, campaign_id, as_json)
    if stop.is_set() and status == "sending":
        note("Stopped; the rest is queued. Run `coopmail worker` or send again to continue.")
    if status == "paused":
        raise SystemExit(1)


@campaigns_group.command("pause")
@click.argument("campaign_id", type=int)
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
@click.argument("campaign_id", type=int)
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
@click.argument("campaign_id", type=int)
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
    note(f"Campaign {campaign_id} is cancelled; {skipped} messages will not be sent.")


@campaigns_group.command("status")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def status_command(app: App, campaign_id: int, as_json: bool) -> None:
    """Where a campaign stands: its state and its messages counted by state."""
    _print_counts(app, campaign_id, as_json, detailed=True)


@campaigns_group.command("test")
@click.argument("campaign_id", type=int)
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
        data: dict[str, Any] = {
            "id": campaign.id,
            "status": campaign.status.value,
            "reason": campaign.status_reason or None,
            "scheduled_at": scheduled.isoformat() if scheduled else None,
            **counts,
            "total": sum(counts.values()),
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
    if scheduled is not None:
        zone = ZoneInfo(app.settings.timezone)
        note(f"scheduled for {scheduled.astimezone(zone):%Y-%m-%d %H:%M %Z}")
    if data["reason"]:
        note(str(data["reason"]))
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
@click.argument("campaign_id", type=int)
@click.option(
    "--at",
    "at",
    required=True,
    metavar="TIME",
    help="ISO 8601, e.g. 2026-12-01T09:00+01:00; without an offset, the time is in "
    "COOPMAIL_TIMEZONE.",
)
@click.pass_obj
def schedule(app: App, campaign_id: int, at: str) -> None:
    """Send a campaign at a given time (again to move it). `coopmail serve` sends it then."""
    zone = ZoneInfo(app.settings.timezone)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise click.BadParameter(
            f"{at!r} is not a time like 2026-12-01T09:00+01:00", param_hint="--at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        schedule_campaign(
            session, campaign=campaign, at=moment.astimezone(UTC), now=datetime.now(UTC)
        )
    local = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    note(
        f"Campaign {campaign_id} will be sent at {local} by the running `coopmail serve` "
        f"(late by up to {app.settings.misfire_grace // 60} min after downtime, never more)."
    )


@campaigns_group.command("unschedule")
@click.argument("campaign_id", type=int)
@click.pass_obj
def unschedule(app: App, campaign_id: int) -> None:
    """Take a scheduled campaign back to draft."""
    with app.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        unschedule_campaign(session, campaign=campaign)
    note(f"Campaign {campaign_id} is a draft again.")
