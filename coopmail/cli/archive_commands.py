"""`coopmail campaigns archive`: show a campaign on the public archive, or take it off."""

from __future__ import annotations

import click

from campaigns.archive import SHOWN, set_archived, slug_of
from coopmail.cli.app import App
from coopmail.cli.campaigns_commands import campaigns_group
from coopmail.cli.output import emit_json, note
from coopmail.cli.params import ROW_ID


@click.command("archive")
@click.argument("campaign_id", type=ROW_ID)
@click.option("--off", is_flag=True, help="Take it off the archive.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def archive(app: App, campaign_id: int, off: bool, as_json: bool) -> None:
    """Publish a campaign at /archive (once sent, to a public list), without anyone's
    name, address or links; --off takes it off."""
    with app.session() as session:
        campaign = set_archived(session, campaign_id=campaign_id, archived=not off)
        url = f"{app.settings.base_url}/archive/{slug_of(campaign.id, campaign.subject)}"
        shown = campaign.status in SHOWN and any(ml.is_public for ml in campaign.lists)
    if as_json:
        emit_json({"id": campaign_id, "archived": not off, "url": url if shown else None})
        return
    if off:
        note(f"Campaign {campaign_id} is off the archive.")
    elif shown:
        note(f"Campaign {campaign_id} is on the archive: {url}")
    else:
        note(
            f"Campaign {campaign_id} will show on the archive once it is sent to a public "
            f"list, at {url}"
        )


def register(cli: click.Group) -> None:
    campaigns_group.add_command(archive)
