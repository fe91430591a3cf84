"""`coopmail campaigns`: compose from a content file, list, show and preview."""

from __future__ import annotations

import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from campaigns.drafts import create_campaign, get_campaign, list_campaigns, preview_campaign
from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table


@click.group("campaigns")
def campaigns_group() -> None:
    """Compose campaigns from templates and preview them."""


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
            content_path=content_path,
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
