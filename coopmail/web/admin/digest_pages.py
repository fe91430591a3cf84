"""The monthly digest in the admin: the configured digests, the form that sets one up (the
same use case as `coopmail digest configure`), the issues waiting for approval with their
items that have no link, and what a month's issue would hold.

Setting up a digest is a send permission: one that sends itself goes to a whole list
without anyone approving each issue."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import Response

from campaigns import overview
from campaigns.digest import (
    DigestError,
    NoNewsForMonth,
    NotAnIssue,
    configure_digest,
    list_digests,
    preview_issue,
    refresh_issue,
)
from campaigns.errors import CampaignNotFound, DraftOnly
from campaigns.news import NewsError, items_for_month, month_label, parse_month
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.site import AdminSite
from coopmail.web.i18n import N_
from subscribers.errors import ListNotFound
from subscribers.languages import writing_language
from subscribers.lists import get_list, summarise_lists

CRON_INVALID = N_(
    "Write when it runs as a cron line of five fields, such as 0 9 1 * * (09:00 on the 1st "
    "of each month)."
)
MONTH_INVALID = N_("Choose a month, such as 2026-11.")
NO_NEWS = N_("No news items for %(month)s. Months with items: %(months)s.")
NO_NEWS_AT_ALL = N_(
    "No news items for %(month)s, and no month has any yet: add or import some on the News page."
)
NOT_AN_ISSUE = N_("This campaign was not made by a digest: it has no month of news to read.")
MONTH_EMPTY = N_("Its month has no news items any more: add some on the News page first.")
MODES = ("draft", "auto")


class DigestPages:
    def __init__(self, site: AdminSite, campaigns: CampaignPages) -> None:
        self.site = site
        self.campaigns = campaigns

    def refresh(self, visit: Visit) -> Response:
        """Read a digest draft's month of news again (links, summaries and stories given
        since it was built); the draft's own text stays."""
        found = self.site.path_id(visit, "campaign_id")
        say = self.site.pages.say
        try:
            with self.site.context.session() as session:
                refreshed = refresh_issue(
                    session, campaign_id=found, author=visit.me.email, now=visit.now
                )
                if refreshed.changed:
                    self.site.record(
                        session,
                        visit,
                        "campaign.digest_refreshed",
                        target_type="campaign",
                        target_id=found,
                        details={"items": refreshed.items},
                    )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except (NotAnIssue, DraftOnly, NoNewsForMonth) as error:
            reason = {NotAnIssue: NOT_AN_ISSUE, DraftOnly: words.NOT_EDITABLE}.get(
                type(error), MONTH_EMPTY
            )
            return self.campaigns.show(visit, status=409, errors={"state": say(visit, reason)})
        done = "digest_refreshed" if refreshed.changed else "digest_unchanged"
        return self.site.redirect(f"/admin/campaigns/{found}", done=done)

    def digest_page(self, visit: Visit) -> Response:
        return self._page(visit)

    def _page(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        errors = dict(errors or {})
        month = visit.query("month", 7)
        preview: dict[str, object] | None = None
        with self.site.context.session(write=False) as session:
            digests = [
                {
                    "id": digest.id,
                    "list": digest.mailing_list.name,
                    "list_title": digest.mailing_list.title,
                    "cron": digest.cron,
                    "auto_send": digest.auto_send,
                    "updated_at": digest.updated_at,
                }
                for digest in list_digests(session)
            ]
            lists = [(s.name, s.title) for s in summarise_lists(session)]
            waiting = overview.digests_awaiting_approval(session)
            if month:
                preview = self._preview(visit, session, month, errors)
        first = digests[0] if digests else None
        shown = values or {
            "list": str(first["list"]) if first else (lists[0][0] if lists else ""),
            "cron": str(first["cron"]) if first else "0 9 1 * *",
            "mode": "auto" if first and first["auto_send"] else "draft",
        }
        return self.site.render(
            visit,
            "digest.html",
            status=status,
            digests=digests,
            lists=lists,
            waiting=waiting,
            month=month,
            preview=preview,
            values=shown,
            errors=errors,
        )

    def _preview(
        self, visit: Visit, session: Session, month: str, errors: dict[str, str]
    ) -> dict[str, object] | None:
        """What the issue of ``month`` would hold, or why there is none (in ``errors``)."""
        language = writing_language(visit.language)

        def label(year: int, number: int) -> str:
            return month_label(year, number, language=language)

        try:
            year, number = parse_month(month)
            composition, count = preview_issue(
                session, year=year, month=number, composer=self.site.context.composer
            )
        except NewsError:
            errors["month"] = self.site.pages.say(visit, MONTH_INVALID)
            return None
        except NoNewsForMonth as error:
            have = ", ".join(label(y, m) for y, m in error.months_with_items[:12])
            message = (
                self.site.pages.say(visit, NO_NEWS, month=label(year, number), months=have)
                if have
                else self.site.pages.say(visit, NO_NEWS_AT_ALL, month=label(year, number))
            )
            errors["month"] = message
            return None
        items = items_for_month(session, year=year, month=number)
        return {
            "label": label(year, number),
            "subject": composition.subject.fill({}),
            "count": count,
            "stories": [
                {"id": item.id, "title": item.title, "day": item.published_on, "link": item.link}
                for item in items
            ],
        }

    def configure(self, visit: Visit) -> Response:
        values = {
            "list": visit.field("list", 100),
            "cron": " ".join(visit.field("cron", 100).split()),
            "mode": visit.field("mode", 10),
        }
        errors: dict[str, str] = {}
        if values["mode"] not in MODES:
            values["mode"] = "draft"
        try:
            with self.site.context.session() as session:
                digest = configure_digest(
                    session,
                    mailing_list=get_list(session, name=values["list"]),
                    cron=values["cron"],
                    auto_send=values["mode"] == "auto",
                    timezone=self.site.settings.timezone,
                )
                self.site.record(
                    session,
                    visit,
                    "digest.configured",
                    target_type="list",
                    target_id=values["list"],
                    details={
                        "digest": digest.id,
                        "cron": digest.cron,
                        "auto_send": digest.auto_send,
                    },
                )
        except ListNotFound:
            errors["list"] = self.site.pages.say(visit, words.CHOOSE_LIST)
        except DigestError:
            errors["cron"] = self.site.pages.say(visit, CRON_INVALID)
        if errors:
            return self._page(visit, status=400, errors=errors, values=values)
        return self.site.redirect("/admin/news/digest", done="digest_saved")
