"""A draft changed in the studio has its images resolved as when it was written: an
http:// image or a file that is not in the library is refused with its line, as creating
refuses them, and the draft keeps what it had; a library image is taken."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.drafts import get_campaign
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media, describe
from campaigns.models import CampaignVersion
from coopmail.db import session_scope
from tests.campaigns.media.images import png
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_campaign_pages import (  # noqa: F401 - fixtures by name
    EDITOR,
    LETTER,
    created,
    sender,
    studio,
)


def test_a_change_to_a_draft_cannot_bring_in_a_broken_image(studio: Admin) -> None:  # noqa: F811
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}/edit"
    form = {**LETTER, "sender": sender(studio)}
    for image in ("http://www.example.org/loom.png", "loom.png"):
        body = f"One.\n\n![A loom]({image})\n"
        refused = studio.post(editor, page, page, {**form, "body": body})
        assert refused.status_code == 400, image
        assert "Line 3 of the body:" in refused.text, image
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).body == LETTER["body"]

    with session_scope(studio.engine) as session:
        item = add_media(
            session,
            store=studio.context.media(),
            image=prepare_image(png(), name="looms.png", limits=ImageLimits()),
            filename="looms.png",
            alt_text="Looms in a workshop",
            now=studio.clock(),
        ).item
        url = describe(item, base_url=studio.base_url)["url"]
    saved = studio.post(editor, page, page, {**form, "body": f"One.\n\n![Looms]({url})\n"})
    assert saved.status_code == 303
    with studio.session() as session:
        assert url in get_campaign(session, campaign_id=campaign_id).body


def test_a_translation_cannot_bring_in_a_broken_image_either(studio: Admin) -> None:  # noqa: F811
    """The French tab saved its body as typed: an http:// image went out broken to every
    French partner while the default version was checked."""
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    assert (
        studio.post(editor, f"{page}/edit", f"{page}/versions", {"language": "fr"}).status_code
        == 303
    )
    form = {**LETTER, "sender": sender(studio), "version": "fr", "subject": "Avec les tisserandes"}
    for image in ("http://www.example.org/metier.png", "metier.png"):
        body = f"Un.\n\n![Un métier]({image})\n"
        refused = studio.post(editor, f"{page}/edit", f"{page}/edit", {**form, "body": body})
        assert refused.status_code == 400, image
        assert "Line 3 of the body:" in refused.text, image
    with studio.session() as session:
        french = session.scalars(
            select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
        ).one()
        assert "métier" not in french.body
