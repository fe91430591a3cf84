"""`coopmail news`: add, edit, import, list and remove the news items newsletters carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from campaigns.news import (
    NewsImportSummary,
    NewsItem,
    add_item,
    edit_item,
    import_csv,
    import_feed,
    import_listing,
    list_items,
    parse_day,
    read_listing,
    remove_item,
    translate_item,
)
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from coopmail.cli.params import ROW_ID
from coopmail.feeds import is_address, read_feed


@click.group("news")
def news_group() -> None:
    """Collect news items for newsletters: by hand, or from feeds, CSV files and listings."""


@news_group.command("translate")
@click.argument("item_id", type=ROW_ID)
@click.option("--in", "language", required=True, metavar="LANGUAGE", help="Such as fr or es.")
@click.option("--title", required=True, help="The headline in that language.")
@click.option("--summary", default="", help="The summary in that language.")
@click.pass_obj
def translate(app: App, item_id: int, language: str, title: str, summary: str) -> None:
    """Give news item ITEM_ID its title and summary in another language, for the digest
    partners read in that language."""
    with app.session() as session:
        translate_item(session, item_id=item_id, language=language, title=title, summary=summary)
    note(f"News item {item_id} now has a title in {language}; the next digest shows it.")


@news_group.command("add")
@click.option("--title", required=True, help="The headline, at most 300 characters.")
@click.option("--date", "day", required=True, help="Publication date, YYYY-MM-DD.")
@click.option("--link", required=True, help="The http(s) address of the full story.")
@click.option("--category", default="", help="Such as 'Cooperative development'.")
@click.option("--summary", default="", help="A paragraph or two of plain text.")
@click.option("--image", "image_url", help="The http(s) address of a picture.")
@click.option("--language", help="A language tag such as en, fr or pt-BR.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": ...} for scripts.')
@click.pass_obj
def add(
    app: App,
    title: str,
    day: str,
    link: str,
    category: str,
    summary: str,
    image_url: str | None,
    language: str | None,
    as_json: bool,
) -> None:
    """Add one news item written by staff."""
    published_on = parse_day(day)
    with app.session() as session:
        item_id = add_item(
            session,
            title=title,
            published_on=published_on,
            link=link,
            summary=summary,
            category=category,
            image_url=image_url,
            language=language,
        ).id
    if as_json:
        emit_json({"id": item_id})
    else:
        click.echo(item_id)
        note(f"Added news item {item_id}. See it with `coopmail news list`.")


@news_group.command("edit")
@click.argument("item_id", type=ROW_ID)
@click.option("--title", help="The headline, at most 300 characters.")
@click.option("--date", "day", help="Publication date, YYYY-MM-DD.")
@click.option("--link", help="The http(s) address of the full story; '' takes it away.")
@click.option("--category", help="Such as 'Cooperative development'.")
@click.option("--summary", help="A paragraph or two of plain text.")
@click.option("--image", "image_url", help="The http(s) address of a picture; '' takes it away.")
@click.option("--language", help="A language tag such as en, fr or pt-BR; '' takes it away.")
@click.pass_obj
def edit(
    app: App,
    item_id: int,
    title: str | None,
    day: str | None,
    link: str | None,
    category: str | None,
    summary: str | None,
    image_url: str | None,
    language: str | None,
) -> None:
    """Change news item ITEM_ID: only the fields given change. An item from a listing has
    no link, so no "read more" in the digest: give it one with --link."""
    published_on = parse_day(day) if day is not None else None
    with app.session() as session:
        edit_item(
            session,
            item_id=item_id,
            title=title,
            published_on=published_on,
            link=link,
            summary=summary,
            category=category,
            image_url=image_url,
            language=language,
        )
    note(f"Changed news item {item_id}. See it with `coopmail news list`.")


@news_group.command("import")
@click.option("--feed", help="An RSS or Atom feed: its http(s) address or a file.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV file with the header title,date,category,summary,link[,image_url,language].",
)
@click.option(
    "--listing",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A plain-text listing: month headings, then numbered items with a dated title.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for scripts.")
@click.pass_obj
def import_command(
    app: App, feed: str | None, csv_path: Path | None, listing: Path | None, as_json: bool
) -> None:
    """Import news items from one feed, CSV file or listing.

    Importing the same source again changes nothing; items whose text changed are updated.
    Entries that cannot be used are counted as rejected, each with where and why.
    """
    if sum(given is not None for given in (feed, csv_path, listing)) != 1:
        raise click.UsageError("give exactly one of --feed, --csv and --listing")
    if feed is not None:
        # Read before the transaction: a slow feed server must not hold the database.
        data, name = read_feed(feed), feed if is_address(feed) else Path(feed).name
        with app.session() as session:
            summary = import_feed(session, source=data, name=name)
    elif csv_path is not None:
        with app.session() as session:
            summary = import_csv(session, path=csv_path)
    else:
        assert listing is not None
        text = read_listing(listing)
        with app.session() as session:
            summary = import_listing(session, text=text, name=listing.name)
    _print_summary(summary, as_json)


def _print_summary(summary: NewsImportSummary, as_json: bool) -> None:
    if as_json:
        emit_json(summary.as_dict())
        return
    grid = table("added", "updated", "unchanged", "rejected")
    add_row(grid, summary.added, summary.updated, summary.unchanged, summary.rejected)
    out.print(grid)
    for reason in summary.reasons:
        note(f"  rejected: {reason}")


@news_group.command("list")
@click.option("--month", help="Only this month, YYYY-MM.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, month: str | None, limit: int, as_json: bool) -> None:
    """Show the newest news items."""
    with app.session() as session:
        rows = [_as_dict(item) for item in list_items(session, month=month, limit=limit)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        note("No news items. Add one with `coopmail news add` or `coopmail news import`.")
        return
    grid = table("id", "date", "category", "title", "link")
    for row in rows:
        add_row(grid, row["id"], row["date"], row["category"], row["title"], row["link"])
    out.print(grid)


def _as_dict(item: NewsItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "date": item.published_on.isoformat(),
        "category": item.category,
        "summary": item.summary,
        "link": item.link,
        "image_url": item.image_url,
        "language": item.language,
        "source": item.source,
        "created_at": item.created_at.isoformat(),
    }


@news_group.command("remove")
@click.argument("item_id", type=ROW_ID)
@click.pass_obj
def remove(app: App, item_id: int) -> None:
    """Delete the news item ID for good."""
    with app.session() as session:
        remove_item(session, item_id=item_id)
    note(f"Removed news item {item_id}.")


def register(cli: click.Group) -> None:
    cli.add_command(news_group)
