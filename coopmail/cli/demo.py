"""`coopmail demo`: a working installation in ./coopmail-demo in one command."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sysconfig
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click
from sqlalchemy import select

from campaigns.content import read_content
from campaigns.drafts import create_campaign, preview_campaign
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import delivery_counts, queue_campaign
from coopmail.cli.app import App
from coopmail.cli.campaigns_commands import write_preview
from coopmail.cli.output import add_row, note, out, table
from coopmail.cli.users_commands import LOGIN_PATH, demo_owner
from coopmail.config import OPTIONS, read_toml
from coopmail.db import schema_revisions, upgrade
from coopmail.delivery import make_worker
from subscribers.errors import ListNotFound
from subscribers.importer import ImportSummary, import_csv
from subscribers.lists import ListSummary, create_list, get_list, summarise_lists
from subscribers.models import OptIn
from templates import sample_path

DEMO_LIST = "partners"
DEMO_OWNER = "owner@coop.example.org"


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
    """Set up a demo: a list of partners, sample subscribers, a letter, sent and captured.

    Safe to run again: it reuses what is there and changes nothing twice.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    config_file = _write_config(directory)
    # The demo's own file wins over any COOPMAIL_* variable in this shell: a demo must
    # never write into the database or the relay of a real installation.
    app = App(config_file=config_file, overrides=read_toml(config_file))
    activate = _write_activate(directory, config_file)
    try:
        before, head = schema_revisions(app.engine)
        if before != head:
            upgrade(app.engine)
        summary, lists = _partners(app, directory)
        letter = _letter(app, directory)
        outbox = directory / "outbox"
        if not letter.sent_before:
            _send(app, letter.campaign_id)
        with app.session() as session:
            counts = delivery_counts(session, campaign_id=letter.campaign_id)
        owner, owner_link = demo_owner(app, email=DEMO_OWNER)
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
        f"{summary.rejected} rejected from partners.csv",
    )
    add_row(
        grid, "campaign", f"{letter.campaign_id}: a letter of solidarity from {letter.source.name}"
    )
    add_row(
        grid, "preview", f"{letter.preview} (as {letter.recipient}), with .txt and .eml beside it"
    )
    add_row(
        grid,
        "send",
        ("already sent before: " if letter.sent_before else "")
        + f"{counts['sent']} sent, {counts['failed']} failed, {counts['skipped']} skipped, "
        f"captured as .eml files in {outbox}",
    )
    out.print(grid)
    note("Try next:")
    if not _ready_to_run(config_file):
        note(f"  . {shlex.quote(_shown(activate))}    # once per terminal: the demo's coopmail")
    note(f"  coopmail subscribers list --list {DEMO_LIST}")
    note(f"  coopmail campaigns status {letter.campaign_id}")
    note(
        f"  coopmail campaigns preview {letter.campaign_id} --to "
        f"lucia.quispe@andes-tejedoras.example.org --output {_shown(directory / 'preview')} --open"
    )
    note("  coopmail serve")
    note(
        "    then subscribe at http://localhost:8000/subscribe: the confirmation mail lands "
        f"in {_shown(outbox)}, like everything the demo sends"
    )
    note(f"    and log in to the staff admin at http://localhost:8000{LOGIN_PATH} as {owner}")
    if owner_link is not None:
        note("    after choosing the owner's password with this link (once, within the hour):")
        click.echo(f"    {owner_link}", err=True)  # never wrapped: it is copied whole
    else:
        note(f"    (forgot the password? `coopmail users reset {owner}` prints a new link)")


def _partners(app: App, directory: Path) -> tuple[ImportSummary, list[ListSummary]]:
    """The list and the sample partners (an import that changes nothing the second time)."""
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
        return summary, summarise_lists(session)


@dataclass(frozen=True, kw_only=True)
class _Letter:
    campaign_id: int
    source: Path
    preview: Path
    recipient: str
    sent_before: bool


def _letter(app: App, directory: Path) -> _Letter:
    """The letter of solidarity as a campaign (made once), its preview, and queued to send."""
    source = directory / "solidarity-letter.md"
    shutil.copyfile(sample_path("solidarity-letter"), source)
    with app.session() as session:
        campaign = session.scalar(
            select(Campaign).where(Campaign.source_name == source.name).order_by(Campaign.id)
        ) or create_campaign(
            session,
            composer=app.composer,
            content=read_content(source),
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
        sent_before = campaign.status is not CampaignStatus.DRAFT
        if not sent_before:
            queue_campaign(session, campaign=campaign, composer=app.composer, now=datetime.now(UTC))
        return _Letter(
            campaign_id=campaign.id,
            source=source,
            preview=paths[0],
            recipient=preview.recipient.email,
            sent_before=sent_before,
        )


def _send(app: App, campaign_id: int) -> None:
    """Deliver as any send does; the demo's SMTP URL keeps each message as an .eml file."""
    make_worker(
        engine=app.engine,
        settings=app.settings,
        concurrency=2,
        campaign_ids=(campaign_id,),
        until_done=True,
    ).run()


def _write_config(directory: Path) -> Path:
    config_file = directory / "coopmail.toml"
    if not config_file.exists():
        config_file.write_text(
            "# Written by `coopmail demo`. A real installation sets COOPMAIL_* variables.\n"
            f'database_url = "sqlite:///{directory / "coopmail.db"}"\n'
            f'secret_key = "{secrets.token_urlsafe(32)}"\n'
            'base_url = "http://localhost:8000"\n'
            'from = "Cooperatives Unit <coop@example.org>"\n'
            "# Every message is kept as an .eml file in the outbox folder, never sent.\n"
            f'smtp_url = "capture://{directory / "outbox"}"\n',
            encoding="utf-8",
        )
        config_file.chmod(0o600)
    elif "smtp_url" not in read_toml(config_file):  # a demo made before capture URLs
        with config_file.open("a", encoding="utf-8") as handle:
            handle.write(f'smtp_url = "capture://{directory / "outbox"}"\n')
    return config_file


def _write_activate(directory: Path, config_file: Path) -> Path:
    """A file to source in a new terminal: the demo's `coopmail` first on PATH, its
    configuration chosen, and no COOPMAIL_* variable of this shell overriding it."""
    scripts = sysconfig.get_path("scripts")
    settings = " ".join(f"COOPMAIL_{option.key.upper()}" for option in OPTIONS)
    activate = directory / "activate"
    activate.write_text(
        "# Written by `coopmail demo`. Use it with: . " + shlex.quote(str(activate)) + "\n"
        f'export PATH={shlex.quote(scripts)}:"$PATH"\n'
        f"export COOPMAIL_CONFIG={shlex.quote(str(config_file))}\n"
        f"unset {settings}\n",
        encoding="utf-8",
    )
    return activate


def _ready_to_run(config_file: Path) -> bool:
    """Whether this shell already runs the demo's coopmail with the demo's settings."""
    found = shutil.which("coopmail")
    ours = Path(sysconfig.get_path("scripts")) / "coopmail"
    return (
        found is not None
        and Path(found).resolve() == ours.resolve()
        and os.environ.get("COOPMAIL_CONFIG") == str(config_file)
        and not any(os.environ.get(f"COOPMAIL_{option.key.upper()}") for option in OPTIONS)
    )


def _shown(path: Path) -> str:
    """A path as short as it can be written from here."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def register(cli: click.Group) -> None:
    cli.add_command(demo)
