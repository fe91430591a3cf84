"""`coopmail demo`: a working installation in ./coopmail-demo in one command."""

from __future__ import annotations

import secrets
import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click
from sqlalchemy import select

from campaigns.drafts import create_campaign, preview_campaign
from campaigns.models import Campaign
from coopmail.cli.app import App
from coopmail.cli.campaigns_commands import write_preview
from coopmail.cli.output import add_row, note, out, table
from coopmail.db import schema_revisions, upgrade
from subscribers.errors import ListNotFound
from subscribers.importer import import_csv
from subscribers.lists import create_list, get_list, summarise_lists
from subscribers.models import OptIn
from templates import sample_path

DEMO_LIST = "partners"


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("coopmail-demo"),
    show_default=True,
    help="Where the demo keeps its database, configuration and files.",
)
def demo(directory: Path) -> None:
    """Set up a demo: a database, a list of partners, sample subscribers, a letter.

    Safe to run again: it reuses what is there and changes nothing twice.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    config_file = _write_config(directory)
    app = App(config_file=config_file)
    try:
        before, head = schema_revisions(app.engine)
        if before != head:
            upgrade(app.engine)
        sample = directory / "partners.csv"
        with resources.as_file(resources.files("coopmail.demo") / "partners.csv") as packaged:
            shutil.copyfile(packaged, sample)
        with app.session() as session:
            try:
                mailing_list = get_list(session, name=DEMO_LIST)
            except ListNotFound:
                mailing_list = create_list(
                    session,
                    name=DEMO_LIST,
                    title="Partners of the Cooperatives Unit",
                    description="Letters of solidarity, interviews and news from the unit.",
                    opt_in=OptIn.DOUBLE,
                    public=True,
                )
                session.commit()
            with sample.open("rb") as source:
                summary = import_csv(
                    session,
                    source=source,
                    mailing_list=mailing_list,
                    rejects_path=directory / "partners.rejects.csv",
                    wording="Demo data: fictional partners imported by `coopmail demo`",
                )
            lists = summarise_lists(session)
            letter = directory / "solidarity-letter.md"
            shutil.copyfile(sample_path("solidarity-letter"), letter)
            campaign = session.scalar(
                select(Campaign).where(Campaign.source_name == letter.name).order_by(Campaign.id)
            ) or create_campaign(
                session,
                composer=app.composer,
                content_path=letter,
                default_sender=app.settings.from_address,
            )
            session.commit()
            preview = preview_campaign(
                session,
                composer=app.composer,
                campaign=campaign,
                base_url=app.settings.base_url,
                key=app.settings.require_secret_key().reveal().encode(),
                now=datetime.now(UTC),
            )
            paths = write_preview(
                directory / "preview",
                f"campaign-{campaign.id}",
                preview.html,
                preview.text,
                preview.message,
            )
            campaign_id, recipient = campaign.id, preview.recipient.email
    finally:
        app.close()

    note(f"Demo ready in {directory}")
    grid = table("step", "result")
    add_row(grid, "database", f"{directory / 'coopmail.db'} (schema {head})")
    add_row(grid, "configuration", f"{config_file} (with its own secret key)")
    for summary_of_list in lists:
        add_row(
            grid,
            f"list {summary_of_list.name}",
            f"{summary_of_list.title}: {summary_of_list.confirmed} confirmed",
        )
    add_row(
        grid,
        "import",
        f"{summary.imported} new, {summary.unchanged} already there, "
        f"{summary.rejected} rejected from {sample.name}",
    )
    add_row(grid, "campaign", f"{campaign_id}: a letter of solidarity from {letter.name}")
    add_row(grid, "preview", f"{paths[0]} (as {recipient}), with .txt and .eml beside it")
    out.print(grid)
    note("Try next:")
    note(f"  export COOPMAIL_CONFIG={config_file}")
    note(f"  coopmail subscribers list --list {DEMO_LIST}")
    note("  coopmail subscribers show amara.diallo@coop-sahel.example.org")
    note(
        f"  coopmail campaigns preview {campaign_id} --to lucia.quispe@andes-tejedoras.example.org "
        f"--output {directory / 'preview'} --open"
    )


def _write_config(directory: Path) -> Path:
    config_file = directory / "coopmail.toml"
    if not config_file.exists():
        config_file.write_text(
            "# Written by `coopmail demo`. A real installation sets COOPMAIL_* variables.\n"
            f'database_url = "sqlite:///{directory / "coopmail.db"}"\n'
            f'secret_key = "{secrets.token_urlsafe(32)}"\n'
            'base_url = "http://localhost:8000"\n'
            'from = "Cooperatives Unit <coop@example.org>"\n',
            encoding="utf-8",
        )
        config_file.chmod(0o600)
    return config_file


def register(cli: click.Group) -> None:
    cli.add_command(demo)
