"""``/v/{token}``: a letter in the browser, exactly as one person received it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from campaigns.drafts import message_factory
from campaigns.links import VIEW
from campaigns.messages import Recipient
from campaigns.models import Campaign
from campaigns.previews import edition_for
from coopmail.web.public.site import PublicSite
from coopmail.web.security import MAIL_VIEW_POLICY
from subscribers.models import Subscriber


class ViewPage:
    def __init__(self, site: PublicSite) -> None:
        self.site = site

    def view_page(self, request: Request) -> Response:
        site = self.site
        values = site.token_values(request, purpose=VIEW, count=2)
        if values is None:
            return site.invalid(request, site.language(request))
        campaign_id, subscriber_id = values
        with site.context.session(write=False) as session:
            campaign = session.get(Campaign, campaign_id)
            subscriber = session.get(Subscriber, subscriber_id)
            if campaign is None or subscriber is None or not campaign.lists:
                return site.invalid(request, site.language(request))
            html = self._html(session, campaign, subscriber)
        # The mail's own inline styles and remote images, still no script and no framing.
        response = Response(html, media_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = MAIL_VIEW_POLICY
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def _html(self, session: Session, campaign: Campaign, subscriber: Subscriber) -> str:
        """The HTML part of the edition this person received (their language version and
        variant, frozen when the send started) or, for a draft seen through a test message,
        would receive, rendered now; filled with this person's values."""
        context = self.site.context
        list_ids = [ml.id for ml in campaign.lists]
        list_id = next(
            (s.list_id for s in subscriber.subscriptions if s.list_id in list_ids), list_ids[0]
        )
        recipient = Recipient(
            subscriber_id=subscriber.id,
            list_id=list_id,
            email=subscriber.email,
            name=subscriber.name,
            language=subscriber.language,
            attributes=subscriber.attributes,
        )
        edition = edition_for(
            session, composer=context.composer, campaign=campaign, recipient=recipient
        )
        factory = message_factory(
            edition.composition, campaign, base_url=self.site.base_url, key=self.site.key
        )
        return edition.composition.html.fill(factory.values(recipient))
