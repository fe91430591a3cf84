"""`coopmail bounces`: read the bounce mailbox; list what it said."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from campaigns.bounces import BouncePolicy, Summary, list_events, record_report
from campaigns.envelope import EnvelopeSender
from coopmail.bouncesources import BounceSource, open_source
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, err, interactive, note, out, table
from coopmail.cli.params import ROW_ID
from mailer.bounces import parse_bounce

# What an MTA pipe alias (`|coopmail bounces process -`) reads from the exit status.
EX_TEMPFAIL = 75  # sysexits.h: keep the message queued and try again later


@click.group("bounces")
def bounces_group() -> None:
    """Process bounces, complaints and mailto unsubscribes; list what they said."""


@bounces_group.command("process")
@click.option("--mbox", type=click.Path(dir_okay=False, path_type=Path), help="Read an mbox file.")
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read a Maildir; processed mail moves to its .Processed folder.",
)
@click.option(
    "--imap",
    metavar="URL",
    help="imaps://user:pass@host/INBOX[?move=FOLDER] (imap:// uses STARTTLS).",
)
@click.argument("stdin", required=False, metavar="[-]")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def process(
    app: App,
    mbox: Path | None,
    maildir: Path | None,
    imap: str | None,
    stdin: str | None,
    as_json: bool,
) -> None:
    """Record the bounces, complaints and unsubscribe requests in a mailbox.

    Give one of --mbox, --maildir, --imap, or `-` for one message on standard input (an MTA
    pipe alias). Hard bounces and complaints suppress the address, soft bounces count
    towards COOPMAIL_BOUNCE_SOFT_LIMIT; reading the same mail again changes nothing.

    With `-`, the exit status tells the MTA what to do: 0 taken (recorded, or not a bounce
    at all), 75 keep it and try again later (the database, the configuration, anything).
    """
    chosen = [
        name
        for name, value in (
            ("--mbox", mbox),
            ("--maildir", maildir),
            ("--imap", imap),
            ("-", stdin),
        )
        if value is not None
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --mbox FILE, --maildir DIR, --imap URL or -")
    if stdin is not None and stdin != "-":
        raise click.UsageError(f"unexpected argument {stdin!r}; use - for standard input")
    if stdin is None:
        summary = _process(app, mbox=mbox, maildir=maildir, imap=imap)
    else:
        try:
            summary = _process(app, mbox=None, maildir=None, imap=None)
        except Exception as error:  # any failure: the MTA keeps the message, nothing is lost
            text = str(getattr(error, "orig", None) or error).strip() or type(error).__name__
            click.echo(f"Error: {text.splitlines()[0]}; the MTA will try again later", err=True)
            sys.exit(EX_TEMPFAIL)
    if as_json:
        emit_json(summary.as_dict())
        return
    data = summary.as_dict()
    note(
        f"{data['messages']} messages: {data['hard']} hard, {data['soft']} soft, "
        f"{data['complaints']} complaints, {data['unsubscribes']} unsubscribes, "
        f"{data['unrecognised']} not bounces, {data['duplicates']} already recorded; "
        f"{data['suppressed']} addresses newly suppressed."
    )
    if data["unverified"]:
        note(
            f"{data['unverified']} reports named no delivery of ours (no VERP, token or "
            "Message-ID) and suppressed no one; see `coopmail bounces list`."
        )
    if data["ignored"]:
        note(f"{data['ignored']} unsubscribe requests carried no valid token and were ignored.")


def _process(app: App, *, mbox: Path | None, maildir: Path | None, imap: str | None) -> Summary:
    settings = app.settings
    envelope = EnvelopeSender(
        address=settings.bounce_address or settings.from_address,
        verp=settings.verp,
        key=settings.require_secret_key().reveal().encode(),
    )
    policy = BouncePolicy(
        hard_limit=settings.bounce_hard_limit,
        soft_limit=settings.bounce_soft_limit,
        soft_days=settings.bounce_soft_days,
    )
    with app.session():  # the schema is checked before any mail is touched
        pass
    source = open_source(
        mbox=mbox,
        maildir=maildir,
        imap=imap,
        stdin=sys.stdin.buffer if mbox is None and maildir is None and imap is None else None,
    )
    summary = Summary()
    try:
        with _progress(source) as advance:
            for incoming in source.messages():
                report = parse_bounce(
                    data=incoming.data, envelope_recipients=incoming.envelope_recipients
                )
                with app.session() as session:
                    recorded = record_report(
                        session,
                        report=report,
                        envelope=envelope,
                        policy=policy,
                        now=datetime.now(UTC),
                    )
                # Only once the record is committed is the mail moved or flagged.
                source.processed(incoming)
                summary.add(recorded, truncated=incoming.truncated or report.truncated)
                advance()
    finally:
        source.close()
    return summary


class _progress:
    """A bar on a terminal when there is more than a message or two."""

    def __init__(self, source: BounceSource) -> None:
        total = source.count()
        self._bar: Progress | None = None
        if interactive() and total is not None and total > 1:
            self._bar = Progress(
                TextColumn("reading bounces"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
            )
            self._task = self._bar.add_task("bounces", total=total)

    def __enter__(self) -> _progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __call__(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@bounces_group.command("list")
@click.option("--email", help="Only the events of this address.")
@click.option("--campaign", "campaign_id", type=ROW_ID, help="Only the events of this campaign.")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="How many events to show at most.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(
    app: App, email: str | None, campaign_id: int | None, limit: int, as_json: bool
) -> None:
    """Show the newest bounce events, newest first."""
    with app.session() as session:
        events = list_events(session, email=email, campaign_id=campaign_id, limit=limit)
    if as_json:
        emit_json(events)
        return
    grid = table("received", "kind", "address", "campaign", "status", "diagnostic")
    for event in events:
        marks = [
            *([] if event["verified"] else ["unverified"]),
            *(["suppressed"] if event["suppressed"] else []),
        ]
        add_row(
            grid,
            event["received_at"][:16].replace("T", " "),
            event["kind"] + (f" ({', '.join(marks)})" if marks else ""),
            event["email"] or "",
            event["campaign_id"] or "",
            event["status"] or "",
            event["diagnostic"][:120],
        )
    out.print(grid)
    if not events:
        note("No bounce events yet; read the bounce mailbox with `coopmail bounces process`.")


def register(cli: click.Group) -> None:
    cli.add_command(bounces_group)
