"""The dashboard: campaigns recent and scheduled, subscribers per list, the last 30 days
as a plot and a table, and what needs someone's attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from markupsafe import Markup
from starlette.responses import Response

from campaigns import overview
from campaigns.drafts import list_campaigns
from campaigns.models import Campaign
from campaigns.news import month_label, parse_month
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.plot import Series, line_plot
from coopmail.web.admin.site import AdminSite
from mailer.bounces import BounceKind
from subscribers.activity import daily_consent
from subscribers.languages import writing_language
from subscribers.lists import summarise_lists
from subscribers.models import ConsentAction
from templates.catalogs import format_decimal

DAYS = 30
RECENT = 8
STORM_WINDOW = timedelta(days=7)


SERIES = ("subscribes", "unsubscribes", "bounces", "complaints")


@dataclass(frozen=True, kw_only=True)
class DayRow:
    day: date
    subscribes: int
    unsubscribes: int
    bounces: int  # hard and soft
    complaints: int


class DashboardPage:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def dashboard(self, visit: Visit) -> Response:
        today = visit.now.date()
        days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
        since = datetime.combine(days[0], time(), tzinfo=visit.now.tzinfo)
        until = datetime.combine(today + timedelta(days=1), time(), tzinfo=visit.now.tzinfo)
        with self.site.context.session(write=False) as session:
            recent = list_campaigns(session, limit=RECENT)
            upcoming = overview.scheduled(session)
            counts = overview.delivery_counts_by_campaign(
                session, campaign_ids=[c.id for c in [*recent, *upcoming]]
            )
            campaigns = [_campaign_row(c, counts[c.id]) for c in recent]
            scheduled = [_campaign_row(c, counts[c.id]) for c in upcoming]
            lists = summarise_lists(session)
            consent = daily_consent(session, since=since, until=until)
            bounces = overview.daily_bounces(session, since=since, until=until)
            paused = [(c.id, c.subject, c.status_reason) for c in overview.paused(session)]
            storms = overview.bounce_storms(session, since=visit.now - STORM_WINDOW)
            digests = [
                {
                    "campaign_id": issue.campaign_id,
                    "month": _month_words(issue.month, language=visit.language),
                    "list_title": issue.list_title,
                    "without_link": issue.without_link,
                }
                for issue in overview.digests_awaiting_approval(session)
            ]
        table = [
            DayRow(
                day=day,
                subscribes=consent.get(day, {}).get(ConsentAction.SUBSCRIBE, 0),
                unsubscribes=consent.get(day, {}).get(ConsentAction.UNSUBSCRIBE, 0),
                bounces=bounces.get(day, {}).get(BounceKind.HARD, 0)
                + bounces.get(day, {}).get(BounceKind.SOFT, 0),
                complaints=bounces.get(day, {}).get(BounceKind.COMPLAINT, 0),
            )
            for day in days
        ]
        plot = self._plot(visit, days, table)
        totals = [sum(getattr(row, key) for row in table) for key in SERIES]
        return self.site.render(
            visit,
            "dashboard.html",
            campaigns=campaigns,
            scheduled=scheduled,
            lists=lists,
            plot=plot,
            table=table,
            totals=totals,
            paused=paused,
            storms=storms,
            digests=digests,
        )

    def _plot(self, visit: Visit, days: list[date], table: list[DayRow]) -> Markup:
        say = self.site.pages.say
        language = writing_language(visit.language)
        labels = [words.SUBSCRIBES, words.UNSUBSCRIBES, words.BOUNCES, words.COMPLAINTS]
        series = [
            Series(key=key, label=say(visit, label), values=[getattr(row, key) for row in table])
            for key, label in zip(SERIES, labels, strict=True)
        ]

        def number(value: int) -> str:
            return format_decimal(value, language=language)

        description = say(
            visit,
            words.PLOT_DESCRIPTION,
            subscribes=number(sum(series[0].values)),
            unsubscribes=number(sum(series[1].values)),
            bounces=number(sum(series[2].values)),
            complaints=number(sum(series[3].values)),
        )
        return line_plot(
            days=days,
            series=series,
            title=say(visit, words.PLOT_TITLE),
            description=description,
            day_label=self.site.pages.day_formatter(language),
            number=number,
        )


def _campaign_row(campaign: Campaign, counts: dict[str, int]) -> dict[str, object]:
    return {
        "id": campaign.id,
        "subject": campaign.subject,
        "status": campaign.status.value,
        "lists": [ml.title for ml in campaign.lists],
        "scheduled_at": campaign.scheduled_at,
        "created_at": campaign.created_at,
        "counts": counts,
        "total": sum(counts.values()),
    }


def _month_words(month: str, *, language: str) -> str:
    """``2026-11`` as staff read it: "November 2026", "novembre 2026"."""
    year, number = parse_month(month)
    return month_label(year, number, language=writing_language(language))
