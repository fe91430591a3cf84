"""`coopmail lists`: create, edit and list mailing lists."""

from __future__ import annotations

from dataclasses import asdict

import click

from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from subscribers.lists import create_list, summarise_lists, update_list
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
@click.option(
    "--language",
    help="The language its subscribers read when they gave none (fr, es...): which version "
    "of a campaign in several languages they get.",
)
@click.option(
    "--timezone",
    "time_zone",
    metavar="ZONE",
    help="The IANA time zone its subscribers live in when they gave none (Europe/Paris, "
    "America/Bogota): a campaign sent at a local hour reaches them at that hour there. "
    "Default: the unit's zone.",
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
    language: str | None,
    time_zone: str | None,
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
            language=language,
            time_zone=time_zone,
        )
        result = {
            "name": mailing_list.name,
            "title": mailing_list.title,
            "opt_in": mailing_list.opt_in.value,
            "public": mailing_list.is_public,
            "language": mailing_list.language,
            "timezone": mailing_list.time_zone,
        }
    if as_json:
        emit_json(result)
    else:
        note(
            f"Created list {name!r} ({result['opt_in']} opt-in, "
            f"{'public' if public else 'private'}). Next: "
            f"`coopmail subscribers import FILE.csv --list {name}`."
        )


@lists_group.command("edit")
@click.argument("name")
@click.option("--title", help="Shown to subscribers.")
@click.option("--description", help="One or two sentences for the subscribe page.")
@click.option(
    "--double-opt-in/--single-opt-in",
    "double",
    default=None,
    help="Double opt-in sends a confirmation mail before the first newsletter.",
)
@click.option("--public/--private", default=None, help="Public lists appear on the subscribe page.")
@click.option(
    "--in",
    "in_language",
    metavar="LANGUAGE",
    help="The --title and --description given are the list's in this language (fr, es...), "
    "shown on the public pages and in mails in that language.",
)
@click.option(
    "--timezone",
    "time_zone",
    metavar="ZONE",
    help="The IANA time zone its subscribers live in when they gave none (Europe/Paris, "
    "America/Bogota): a campaign sent at a local hour reaches them at that hour there. "
    " for none (the unit's zone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def edit(
    app: App,
    name: str,
    title: str | None,
    description: str | None,
    double: bool | None,
    public: bool | None,
    in_language: str | None,
    time_zone: str | None,
    as_json: bool,
) -> None:
    """Change the title, description, opt-in, visibility or time zone of the list NAME."""
    with app.session() as session:
        mailing_list = update_list(
            session,
            name=name,
            title=title,
            description=description,
            opt_in=None if double is None else (OptIn.DOUBLE if double else OptIn.SINGLE),
            public=public,
            in_language=in_language,
            time_zone=time_zone,
        )
        result = {
            "name": mailing_list.name,
            "title": mailing_list.title,
            "description": mailing_list.description,
            "opt_in": mailing_list.opt_in.value,
            "public": mailing_list.is_public,
            "translations": mailing_list.translations,
            "timezone": mailing_list.time_zone,
        }
    if as_json:
        emit_json(result)
    else:
        note(
            f"List {name!r}: {result['title']!r}, {result['opt_in']} opt-in, "
            f"{'public' if result['public'] else 'private'}."
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
        "name",
        "title",
        "opt-in",
        "visibility",
        "zone",
        "confirmed",
        "unconfirmed",
        "unsubscribed",
    )
    for s in summaries:
        add_row(
            grid,
            s.name,
            s.title,
            s.opt_in,
            "public" if s.public else "private",
            s.timezone or "the unit's",  # what a partner without a zone of their own gets
            s.confirmed,
            s.unconfirmed,
            s.unsubscribed,
        )
    out.print(grid)


def register(cli: click.Group) -> None:
    cli.add_command(lists_group)
