"""The preview beside the editor: the message as a recipient gets it, rendered by the same
composer as the send, for a chosen subscriber or a sample reader.

The preview is a document of its own, shown in ``<iframe sandbox>`` without
``allow-same-origin`` and without ``allow-scripts``, and served under a policy that forbids
script and lets nothing frame it but the admin: a campaign's markup can never act as the
staff member looking at it (listmonk's CVE-2026-21483 made a backdoor admin that way).
It is a URL, not ``srcdoc``: a ``srcdoc`` frame inherits the admin's policy, which rightly
forbids the inline styles a mail is made of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import escape
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, Response

from campaigns.drafts import Preview, get_campaign, prepare_campaign, preview_campaign
from campaigns.errors import CampaignNotFound, ContentError
from campaigns.models import Campaign, CampaignStatus
from coopmail.media import image_context
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit, is_script
from coopmail.web.admin.campaign_form import ContentProblem, StudioForm, describe_problem
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.site import AdminSite
from coopmail.web.security import PREVIEW_POLICY
from subscribers.errors import ListNotFound
from subscribers.lists import get_list

VIEWS = ("desktop", "mobile", "dark", "text")
# Mail programs in dark mode apply the mail's own dark rules; the preview applies them
# whatever the staff member's own setting.
_DARK_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Trouble:
    """Why there is no preview: the words for the frame, the data for the script."""

    message: str
    data: dict[str, Any]


class PreviewPage:
    def __init__(self, site: AdminSite, campaigns: CampaignPages) -> None:
        self.site = site
        self.campaigns = campaigns

    def preview_unsaved(self, visit: Visit) -> Response:
        """What the editor holds, not saved: the frame's document, or for the editor's
        script the content's problem (or none) as JSON."""
        outcome = self._render_unsaved(visit, StudioForm.read(visit))
        script = is_script(visit.request)
        if isinstance(outcome, Trouble):
            if script:
                return JSONResponse({"problem": outcome.data})
            return self.problem_frame(visit, outcome.message)
        if script:
            return JSONResponse({"problem": None})
        return frame(outcome, _view(visit.field("view", 20)))

    def _render_unsaved(self, visit: Visit, form: StudioForm) -> Preview | Trouble:
        mistakes = self.campaigns.check(visit, form)
        if mistakes:
            name, message = next(iter(mistakes.items()))
            return Trouble(message=message, data={"field": name, "message": message})
        try:
            with self.site.context.session(write=False) as session:
                draft = prepare_campaign(
                    session,
                    composer=self.site.context.composer,
                    content=form.content(),
                    default_sender=self.site.settings.from_address,
                    template=form.kind,
                    list_names=form.lists,
                    subject=form.subject,
                    # As saving will, but a remote image is checked only when it is saved:
                    # the preview refreshes as staff type.
                    images=image_context(self.site.settings, folder=None, check_remote=False),
                    senders=self.site.settings.sender_choices(),
                )
                unsaved = Campaign(
                    id=0,
                    subject=draft.subject,
                    preheader=draft.preheader,
                    template=draft.template,
                    source_format=draft.content.format,
                    source_name=draft.content.name,
                    body=draft.content.body,
                    meta=draft.content.meta,
                    from_address=draft.sender,
                    reply_to=draft.reply_to,
                    language=draft.language,
                    status=CampaignStatus.DRAFT,
                    lists=[get_list(session, name=name) for name in draft.list_names],
                )
                return self._preview(session, unsaved, form.preview_to, visit.now)
        except ListNotFound:
            message = self.site.pages.say(visit, words.CHOOSE_LISTS)
            return Trouble(message=message, data={"field": "lists", "message": message})
        except ContentError as error:
            problem = ContentProblem.of(error)
            return Trouble(message=self.describe(visit, problem), data=problem.as_json())

    def preview_saved(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        try:
            with self.site.context.session(write=False) as session:
                campaign = get_campaign(session, campaign_id=found)
                preview = self._preview(session, campaign, visit.query("to", 320), visit.now)
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except ContentError as error:
            return self.problem_frame(visit, self.describe(visit, ContentProblem.of(error)))
        return frame(preview, _view(visit.query("view", 20)))

    def _preview(self, session: Session, campaign: Campaign, to: str, now: datetime) -> Preview:
        return preview_campaign(
            session,
            composer=self.site.context.composer,
            campaign=campaign,
            base_url=self.site.settings.base_url,
            key=self.site.settings.require_secret_key().reveal().encode(),
            now=now,
            to=to or None,
        )

    def describe(self, visit: Visit, problem: ContentProblem) -> str:
        return describe_problem(self.site.pages, visit, problem)

    def problem_frame(self, visit: Visit, message: str) -> Response:
        title = self.site.pages.say(visit, words.PREVIEW_FAILED)
        page = (
            f'<!doctype html><html lang="{escape(visit.language)}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head>"
            '<body style="font:16px/1.5 system-ui,sans-serif;margin:1.5rem;color:#1c2430">'
            f'<h1 style="font-size:1.2rem">{escape(title)}</h1>'
            f'<p style="color:#9b2c12;font-weight:600">{escape(message)}</p></body></html>'
        )
        return _framed(HTMLResponse(page, status_code=200))


def frame(preview: Preview, view: str) -> Response:
    """The preview's document for the frame, in one of the views."""
    if view == "text":
        page = (
            '<!doctype html><html><head><meta charset="utf-8"><title>text</title></head>'
            '<body style="margin:0;background:#fff;color:#111">'
            '<pre style="white-space:pre-wrap;word-wrap:break-word;margin:16px;'
            f'font:14px/1.5 ui-monospace,monospace">{escape(preview.text)}</pre></body></html>'
        )
        return _framed(HTMLResponse(page))
    html = preview.html
    if view == "dark":
        html = _DARK_QUERY.sub("all", html)
    return _framed(HTMLResponse(html))


def _framed(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _view(value: str) -> str:
    return value if value in VIEWS else VIEWS[0]
