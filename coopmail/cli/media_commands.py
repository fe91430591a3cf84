"""`coopmail media`: add images to the media library and list them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media, clean_alt_text, describe, list_media
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from coopmail.media import media_store


@click.group("media")
def media_group() -> None:
    """The media library: images that campaigns show, served under /media/."""


@media_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--alt",
    "alt_text",
    required=True,
    help="What the image shows, in a few words: read aloud to blind readers, shown with "
    "images off.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the image's id and URL as JSON.")
@click.pass_obj
def add(app: App, file: Path, alt_text: str, as_json: bool) -> None:
    """Add a PNG, JPEG, GIF or WebP image; metadata is removed and a copy sized for mail
    (at most 1,200 px wide) is made. Print its URL for campaigns."""
    alt_text = clean_alt_text(alt_text, required=True)
    image = prepare_image(file.read_bytes(), name=file.name, limits=ImageLimits())
    with app.session() as session:
        added = add_media(
            session,
            store=media_store(app.settings),
            image=image,
            filename=file.name,
            alt_text=alt_text,
            now=datetime.now(UTC),
        )
        data = describe(added.item, base_url=app.settings.base_url)
    if as_json:
        emit_json({**data, "new": added.new})
        return
    click.echo(data["url"])
    already = "" if added.new else " (it was already in the library)"
    note(
        f"Image {data['id']}{already}, {data['width']}x{data['height']} px. Next: use the URL "
        f"in a campaign, as ![{data['alt']}]({data['url']}) in Markdown."
    )


@media_group.command("list")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, limit: int, as_json: bool) -> None:
    """Show the newest images of the library."""
    with app.session(write=False) as session:
        items = list_media(session, limit=limit)
        rows = [describe(item, base_url=app.settings.base_url) for item in items]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        note("No images yet. Add one with `coopmail media add FILE --alt TEXT`.")
        return
    grid = table("id", "size", "alt text", "file", "url")
    for row in rows:
        add_row(
            grid,
            row["id"],
            f"{row['width']}x{row['height']}",
            row["alt"] or "(none: describe it before use)",
            row["filename"],
            row["url"],
        )
    out.print(grid)


def register(cli: click.Group) -> None:
    cli.add_command(media_group)
