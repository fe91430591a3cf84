"""`coopmail subscribers`: add, import, export, list, remove, show and erase people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from campaigns.bounces import subscriber_events
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, err, interactive, note, out, table
from coopmail.cli.root import ExitCode
from coopmail.db import forget_erased
from subscribers.exporter import export_csv
from subscribers.importer import import_csv
from subscribers.lists import get_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import (
    delete_subscriber,
    erase_subscriber,
    get_subscriber,
    personal_data,
    subscribe,
    unsubscribe,
)
from subscribers.search import PeopleQuery, count_people, search_people

STATUS_CHOICE = click.Choice([status.value for status in SubscriptionStatus])


@click.group("subscribers")
def subscribers_group() -> None:
    """Add, import, export, list, remove, show and erase subscribers."""


def _attributes(pairs: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--attribute")
        result[key.strip()] = value
    return result


@subscribers_group.command("add")
@click.argument("email")
@click.option(
    "--list", "list_names", multiple=True, required=True, help="List to join; repeatable."
)
@click.option("--name", help="The person's name as they write it.")
@click.option("--language", help="Preferred language tag: en, fr, es, pt-BR...")
@click.option("--attribute", "pairs", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--unconfirmed", is_flag=True, help="Leave the subscription awaiting confirmation.")
@click.option(
    "--consent",
    "wording",
    default="Added by staff at the person's request",
    show_default=True,
    help="How the person gave consent, kept in their consent record.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def add(
    app: App,
    email: str,
    list_names: tuple[str, ...],
    name: str | None,
    language: str | None,
    pairs: tuple[str, ...],
    unconfirmed: bool,
    wording: str,
    as_json: bool,
) -> None:
    """Add EMAIL to one or more lists (or update the person if already there)."""
    attributes = _attributes(pairs)
    status = SubscriptionStatus.UNCONFIRMED if unconfirmed else SubscriptionStatus.CONFIRMED
    with app.session() as session:
        results = [
            subscribe(
                session,
                email=email,
                mailing_list=get_list(session, name=list_name),
                source=ConsentSource.STAFF,
                wording=wording,
                status=status,
                name=name,
                language=language,
                attributes=attributes,
            )
            for list_name in list_names
        ]
        address = results[0].subscriber.email
        statuses = {
            n: r.subscription.status.value for n, r in zip(list_names, results, strict=True)
        }
        created = results[0].created
    if as_json:
        emit_json({"email": address, "created": created, "subscriptions": statuses})
    else:
        joined = ", ".join(f"{n} ({s})" for n, s in statuses.items())
        note(f"{'Added' if created else 'Updated'} {address}: {joined}.")


@subscribers_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--list", "list_name", required=True, help="The list to import into.")
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where rejected rows go, with line numbers and reasons [default: FILE.rejects.csv].",
)
@click.option("--unconfirmed", is_flag=True, help="Import as awaiting confirmation.")
@click.option(
    "--consent",
    "wording",
    help="How these people gave consent, kept in each consent record "
    "[default: 'Imported by staff from FILE'].",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for scripts.")
@click.pass_obj
def import_command(
    app: App,
    file: Path,
    list_name: str,
    rejects_path: Path | None,
    unconfirmed: bool,
    wording: str | None,
    as_json: bool,
) -> None:
    """Import people from a CSV FILE (or - for standard input) into a list.

    The header row names the columns: email (required), name, language; any other column
    becomes an attribute. Re-running the same file changes nothing; suppressed addresses and
    people who unsubscribed are never subscribed again. Bad rows go to the rejects file.
    """
    from_stdin = str(file) == "-"
    if rejects_path is None:
        rejects_path = (
            Path("import.rejects.csv") if from_stdin else file.with_suffix(".rejects.csv")
        )
    with app.session() as session:
        mailing_list = get_list(session, name=list_name)
        source = _open_source(file, from_stdin)
        with source, _progress(source, enabled=interactive() and not from_stdin) as on_batch:
            summary = import_csv(
                session,
                source=source,
                mailing_list=mailing_list,
                rejects_path=rejects_path,
                wording=wording
                or f"Imported by staff from {file.name if not from_stdin else 'standard input'}",
                status=SubscriptionStatus.UNCONFIRMED
                if unconfirmed
                else SubscriptionStatus.CONFIRMED,
                on_batch=on_batch,
            )
    if as_json:
        emit_json(summary.as_dict())
    else:
        grid = table(
            "rows", "imported", "updated", "unchanged", "duplicates", "suppressed", "rejected"
        )
        add_row(
            grid,
            summary.rows,
            summary.imported,
            summary.updated,
            summary.unchanged,
            summary.duplicates,
            summary.suppressed,
            summary.rejected,
        )
        out.print(grid)
        if summary.rejects_file:
            note(f"Rows not imported, with line numbers and reasons: {summary.rejects_file}")
    if summary.interrupted:
        note("Interrupted: the batches shown were saved. Run the same command again to finish.")
        sys.exit(ExitCode.INTERRUPTED)


def _open_source(file: Path, from_stdin: bool) -> IO[bytes]:
    if from_stdin:
        return sys.stdin.buffer
    try:
        return file.open("rb")
    except OSError as error:
        raise click.ClickException(f"cannot open {file}: {error.strerror}") from None


class _progress:
    """A progress bar over the bytes of the file, on a terminal only."""

    def __init__(self, source: IO[bytes], *, enabled: bool) -> None:
        self._source = source
        self._bar: Progress | None = None
        if enabled:
            try:
                total = Path(source.name).stat().st_size
            except (OSError, AttributeError, TypeError):
                return
            self._bar = Progress(
                TextColumn("importing"),
                BarColumn(),
                TextColumn("{task.fields[rows]:,} rows"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self._task = self._bar.add_task("import", total=total, rows=0)

    def __enter__(self) -> _progress | None:
        if self._bar is None:
            return None
        self._bar.start()
        return self

    def __call__(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self._source.tell(), rows=rows)

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@subscribers_group.command("export")
@click.option("--list", "list_name", required=True, help="The list to export.")
@click.option("--status", type=STATUS_CHOICE, help="Only this subscription status.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    default="-",
    help="CSV file to write [default: standard output].",
)
@click.pass_obj
def export(app: App, list_name: str, status: str | None, output: Path) -> None:
    """Export a list as CSV with subscription statuses (re-importable as is)."""
    with app.snapshot() as session:
        mailing_list = get_list(session, name=list_name)
        chosen = SubscriptionStatus(status) if status else None
        if str(output) == "-":
            count = export_csv(session, mailing_list=mailing_list, output=sys.stdout, status=chosen)
            return
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = export_csv(session, mailing_list=mailing_list, output=handle, status=chosen)
        partial.replace(output)  # never leave a truncated export under the real name
    note(f"Wrote {count} subscribers of {list_name} to {output}.")


@subscribers_group.command("list")
@click.option("--list", "list_name", help="Only this list (and show the status on it).")
@click.option("--status", type=STATUS_CHOICE, help="With --list: only this status.")
@click.option("--search", help="Part of an address or name.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--after",
    type=click.IntRange(1, 2**63 - 1),
    metavar="ID",
    help="The page after this subscriber id (the previous page's next cursor).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(
    app: App,
    list_name: str | None,
    status: str | None,
    search: str | None,
    limit: int,
    after: int | None,
    as_json: bool,
) -> None:
    """List subscribers, newest first, a page at a time."""
    if status and not list_name:
        raise click.UsageError("--status needs --list")
    with app.session(write=False) as session:
        mailing_list = get_list(session, name=list_name) if list_name else None
        query = PeopleQuery(
            text=search or "",
            text_anywhere=True,
            list_id=mailing_list.id if mailing_list is not None else None,
            status=SubscriptionStatus(status) if status else None,
        )
        page = search_people(session, query=query, after=after, limit=limit)
        total = count_people(session, query=query, cap=None).count
    rows = page.rows
    if as_json:
        emit_json(
            {
                "total": total,
                "next": page.next_after,
                "subscribers": [
                    {
                        "id": r.id,
                        "email": r.email,
                        "name": r.name,
                        "language": r.language,
                        "status": r.status,
                        "created_at": r.created_at.isoformat(),
                    }
                    for r in rows
                ],
            }
        )
        return
    grid = table("email", "name", "language", *(["status"] if list_name else []), "since")
    for r in rows:
        add_row(
            grid,
            r.email,
            r.name,
            r.language or "",
            *([r.status] if list_name else []),
            r.created_at.date().isoformat(),
        )
    out.print(grid)
    note(
        f"{len(rows)} of {total}"
        + (f"; next page: --after {page.next_after}" if page.next_after is not None else "")
    )


@subscribers_group.command("remove")
@click.argument("email")
@click.option(
    "--list",
    "list_names",
    multiple=True,
    help="Unsubscribe from this list only; repeatable. Without it, delete the person.",
)
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
@click.pass_obj
def remove(app: App, email: str, list_names: tuple[str, ...], yes: bool) -> None:
    """Unsubscribe EMAIL from lists, or delete the person entirely (not suppressed)."""
    with app.session() as session:
        subscriber = get_subscriber(session, email=email)
        if list_names:
            lists = [get_list(session, name=n) for n in list_names]
            changed = unsubscribe(
                session,
                subscriber=subscriber,
                lists=lists,
                source=ConsentSource.STAFF,
                wording="Removed by staff",
            )
            note(
                f"Unsubscribed {subscriber.email} from {', '.join(changed)}."
                if changed
                else f"{subscriber.email} was not subscribed to {', '.join(list_names)}."
            )
            return
        if not yes:
            _confirm(f"Delete {subscriber.email} and all their subscriptions?")
        delete_subscriber(session, subscriber=subscriber)
    note(
        f"Deleted {email}. They can be added again; to prevent that, use "
        "`coopmail suppressions add` or `coopmail subscribers erase`."
    )


@subscribers_group.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a GDPR access export).")
@click.pass_obj
def show(app: App, email: str, as_json: bool) -> None:
    """Show everything held on one person."""
    with app.session() as session:
        data = personal_data(session, email=email)
        # The shell adds what campaigns hold on the person; subscribers cannot know it.
        data["bounce_events"] = subscriber_events(
            session, subscriber_id=get_subscriber(session, email=email).id
        )
    if as_json:
        emit_json(data)
        return
    grid = table("field", "value")
    for key in ("email", "name", "language", "created_at", "updated_at"):
        add_row(grid, key, data[key])
    for key, value in sorted(data["attributes"].items()):
        add_row(grid, f"attribute {key}", value)
    if data["suppression"]:
        add_row(
            grid, "suppressed", f"{data['suppression']['reason']} {data['suppression']['note']}"
        )
    out.print(grid)
    subscriptions = table("list", "status", "since", "confirmed", "unsubscribed")
    for s in data["subscriptions"]:
        add_row(
            subscriptions,
            s["list"],
            s["status"],
            s["created_at"],
            s["confirmed_at"],
            s["unsubscribed_at"],
        )
    out.print(subscriptions)
    consents = table("at", "action", "source", "list", "wording")
    for c in data["consent_records"]:
        add_row(consents, c["at"], c["action"], c["source"], c["list"], c["wording"])
    out.print(consents)
    if data["bounce_events"]:
        bounces = table("received", "kind", "campaign", "status", "diagnostic")
        for b in data["bounce_events"]:
            add_row(
                bounces, b["received_at"], b["kind"], b["campaign_id"], b["status"], b["diagnostic"]
            )
        out.print(bounces)


@subscribers_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask before erasing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def erase(app: App, email: str, yes: bool, as_json: bool) -> None:
    """Erase all personal data of EMAIL (GDPR); a hashed suppression keeps it unmailed."""
    if not yes:
        _confirm(f"Erase every record of {email}? This cannot be undone.")
    with app.session() as session:
        held = erase_subscriber(session, email=email)
    forget_erased(app.engine)
    if as_json:
        emit_json({"erased": held, "suppressed": True})
    else:
        note(
            (
                "Erased the personal data of the address"
                if held
                else "No personal data was held for the address"
            )
            + "; it stays suppressed (as a hash) and will never be mailed."
        )


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise click.UsageError("this would delete data; pass --yes to confirm")
    click.confirm(question, abort=True, err=True)


def register(cli: click.Group) -> None:
    cli.add_command(subscribers_group)
