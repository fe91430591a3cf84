"""The monthly digest: last month's news items, as a campaign that builds itself.

One digest per list, on a cron schedule. Each run builds the previous month's issue with
the `digest` template, then sends it or leaves it as a draft for approval. A month without
news sends nothing; a month already built is never built twice.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from campaigns.compose import Composer, Composition
from campaigns.content import Content
from campaigns.errors import CampaignsError
from campaigns.models import Campaign, CampaignStatus, SourceFormat
from campaigns.news import NewsItem, items_for_month
from campaigns.outbox import queue_campaign
from subscribers.base import Base, IdType, UTCDateTime, utcnow
from subscribers.models import MailingList

TEMPLATE = "digest"


class Digest(Base):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), unique=True)
    cron: Mapped[str] = mapped_column(String(100))
    auto_send: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    mailing_list: Mapped[MailingList] = relationship()


class DigestIssue(Base):
    """One month's issue of a digest: the unique key that makes a second run a no-op."""

    __tablename__ = "digest_issues"
    __table_args__ = (UniqueConstraint("digest_id", "month"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestError(CampaignsError):
    pass


def configure_digest(
    session: Session, *, mailing_list: MailingList, cron: str, auto_send: bool, timezone: str
) -> Digest:
    """Create or change the list's digest; the cron line is read in the unit's time zone."""
    try:
        CronTrigger.from_crontab(cron, timezone=timezone)
    except ValueError as error:
        raise DigestError(
            f"{cron!r} is not a cron line such as '0 9 1 * *' (09:00 on the 1st): {error}"
        ) from None
    digest = session.scalar(select(Digest).where(Digest.list_id == mailing_list.id))
    if digest is None:
        digest = Digest(list_id=mailing_list.id, cron=cron, auto_send=auto_send)
        session.add(digest)
    else:
        digest.cron, digest.auto_send = cron, auto_send
    session.flush()
    return digest


def list_digests(session: Session) -> list[Digest]:
    return list(session.scalars(select(Digest).order_by(Digest.id)))


def previous_month(moment: date) -> tuple[int, int]:
    return (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)


@dataclass(frozen=True, kw_only=True)
class DigestRun:
    month: str
    campaign_id: int | None
    items: int
    outcome: str  # "sent", "draft", "empty" or "exists"
    message: str


def build_issue(
    session: Session,
    *,
    digest: Digest,
    year: int,
    month: int,
    composer: Composer,
    sender: str,
    now: datetime,
) -> DigestRun:
    """Build (and, with auto-send, queue) one month's issue, at most once per month."""
    key = f"{year:04d}-{month:02d}"
    label = _label(year, month)
    existing = session.scalar(
        select(DigestIssue).where(DigestIssue.digest_id == digest.id, DigestIssue.month == key)
    )
    if existing is not None:
        return DigestRun(
            month=key,
            campaign_id=existing.campaign_id,
            items=0,
            outcome="exists",
            message=f"the {label} digest was already made (campaign "
            f"{existing.campaign_id}); nothing new",
        )
    items = items_for_month(session, year=year, month=month)
    if not items:
        return DigestRun(
            month=key,
            campaign_id=None,
            items=0,
            outcome="empty",
            message=f"no news items for {label}: no digest sent",
        )
    campaign = Campaign(
        subject=_subject(composer, label),
        preheader=f"{len(items)} stories from {label}",
        template=TEMPLATE,
        source_format=SourceFormat.MARKDOWN,
        source_name=f"digest {key}",
        body="",
        meta={"months": [_month(label, items)]},
        from_address=sender,
        language="en",
        status=CampaignStatus.DRAFT,
        lists=[digest.mailing_list],
    )
    compose_issue(composer, campaign)  # a template problem surfaces now, not at send time
    session.add(campaign)
    session.flush()
    try:
        with session.begin_nested():
            session.add(DigestIssue(digest_id=digest.id, month=key, campaign_id=campaign.id))
    except IntegrityError:  # another process built this month meanwhile
        session.delete(campaign)
        return DigestRun(
            month=key,
            campaign_id=None,
            items=len(items),
            outcome="exists",
            message=f"the {label} digest was already made; nothing new",
        )
    if digest.auto_send:
        queued = queue_campaign(session, campaign=campaign, composer=composer, now=now)
        return DigestRun(
            month=key,
            campaign_id=campaign.id,
            items=len(items),
            outcome="sent",
            message=f"the {label} digest ({len(items)} stories) is sending to {queued} recipients",
        )
    return DigestRun(
        month=key,
        campaign_id=campaign.id,
        items=len(items),
        outcome="draft",
        message=f"the {label} digest ({len(items)} stories) waits for approval: "
        f"`coopmail campaigns preview {campaign.id} --output DIR`, then "
        f"`coopmail campaigns send {campaign.id}`",
    )


def preview_issue(
    session: Session, *, year: int, month: int, composer: Composer
) -> tuple[Composition, int]:
    """What the issue for this month would be, stored nowhere; and how many items it has."""
    items = items_for_month(session, year=year, month=month)
    if not items:
        raise DigestError(
            f"no news items for {_label(year, month)}; add some with "
            "`coopmail news add` or `coopmail news import`"
        )
    label = _label(year, month)
    content = Content(
        name=f"digest {year:04d}-{month:02d}",
        format=SourceFormat.MARKDOWN,
        body="",
        body_line=1,
        meta={"months": [_month(label, items)]},
    )
    composition = composer.compose(
        content=content,
        template=TEMPLATE,
        subject=_subject(composer, label),
        preheader=f"{len(items)} stories from {label}",
    )
    return composition, len(items)


def compose_issue(composer: Composer, campaign: Campaign) -> Composition:
    content = Content(
        name=campaign.source_name,
        format=SourceFormat.MARKDOWN,
        body="",
        body_line=1,
        meta=campaign.meta,
    )
    return composer.compose(
        content=content, template=TEMPLATE, subject=campaign.subject, preheader=campaign.preheader
    )


def _month(label: str, items: list[NewsItem]) -> dict[str, object]:
    return {
        "label": label,
        "items": [
            {
                "category": item.category,
                "title": item.title,
                "date": f"{item.published_on.day} {calendar.month_name[item.published_on.month]}"
                f" {item.published_on.year}",
                "summary": item.summary,
                "link": item.link or "",
            }
            for item in items
        ],
    }


def _label(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


def _subject(composer: Composer, label: str) -> str:
    return f"News from the {composer.unit.name}: {label}"
