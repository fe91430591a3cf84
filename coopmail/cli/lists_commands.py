"""`coopmail lists`: create and list mailing lists."""

from __future__ import annotations

from dataclasses import asdict

import click

from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from subscribers.lists import create_list, summarise_lists
from subscribers.models import OptIn


@click.group("lists")
def lists_group() -> None:
    """Create and inspect mailing lists."""


@lists_group.command("create")
@click.argument("name")
@click.option("--title", help="Shown to subscribers; defaults to the name.")
@click.option("--description", default="", help="One or two sentences for the subscribe page.")
@click.option(
    "--double-opt-in/--single-opt-in",
    "double",
    default=True,
    show_default=True,
    help="Double opt-in sends a confirmation mail before the first newsletter.",
)
@click.option(
    "--public/--private",
    default=False,
    show_default=True,
    help="Public lists appear on the subscribe page.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def create(
    app: App,
    name: str,
    title: str | None,
    description: str,
    double: bool,
    public: bool,
    as_json: bool,
) -> None:
    """Create the list NAME (a slug such as `partners` or `news-fr`)."""
    with app.session() as session:
        mailing_list = create_list(
            session,
            name=name,
            title=title,
            description=description,
            opt_in=OptIn.DOUBLE if double else OptIn.SINGLE,
            public=public,
        )
        result = {
            "name": mailing_list.name,
            "title": mailing_list.title,
            "opt_in": mailing_list.opt_in.value,
            "public": mailing_list.is_public,
        }
    if as_json:
        emit_json(result)
    else:
        note(
            f"Created list {name!r} ({result['opt_in']} opt-in, "
            f"{'public' if public else 'private'}). Next: "
            f"`coopmail subscribers import FILE.csv --list {name}`."
        )


@lists_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, as_json: bool) -> None:
    """Show every list with its subscriber counts."""
    with app.session() as session:
        summaries = summarise_lists(session)
    if as_json:
        emit_json([asdict(summary) for summary in summaries])
        return
    if not summaries:
        note("No lists yet. Create one with `coopmail lists create NAME`.")
        return
    grid = table(
        "name", "title", "opt-in", "visibility", "confirmed", "unconfirmed", "unsubscribed"
    )
    for s in summaries:
        add_row(
            grid,
            s.name,
            s.title,
            s.opt_in,
            "public" if s.public else "private",
            s.confirmed,
            s.unconfirmed,
            s.unsubscribed,
        )
    out.print(grid)


def register(cli: click.Group) -> None:
    cli.add_command(lists_group)
