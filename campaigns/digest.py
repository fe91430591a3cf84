"""The monthly digest: last month's news items, as a campaign that builds itself.

One digest per list, on a cron schedule. Each run builds the previous month's issue with
the `digest` template, then sends it or leaves it as a draft for approval. A month without
news sends nothing; a month already built is never built twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.compose import Composer, Composition
from campaigns.content import Content
from campaigns.drafts import get_campaign
from campaigns.editing import check_editable
from campaigns.editions import Editions
from campaigns.errors import CampaignsError
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Digest,
    DigestIssue,
    SourceFormat,
)
from campaigns.news import NewsItem, item_words, items_for_month, month_label, months_with_items
from campaigns.outbox import Rendering, queue_campaign
from campaigns.revisions import record_revision
from campaigns.versions import DraftVersion, record_translation, store_versions
from subscribers.languages import DEFAULT_LANGUAGE, LANGUAGES
from subscribers.models import MailingList
from templates.catalogs import format_date, gettext, ngettext

TEMPLATE = "digest"
LANGUAGE = DEFAULT_LANGUAGE  # an issue's words, dates and numbers; the campaign keeps it


class DigestError(CampaignsError):
    pass


class NotAnIssue(DigestError):
    """The campaign was not built by a digest: it has no month of news to read again."""

    def __init__(self, *, campaign_id: int) -> None:
        super().__init__(f"campaign {campaign_id} is not a digest's issue")
        self.campaign_id = campaign_id


class NoNewsForMonth(DigestError):
    """An issue was asked for a month without news items; which months have some."""

    def __init__(self, *, year: int, month: int, months_with_items: list[tuple[int, int]]) -> None:
        have = (
            ", ".join(month_label(y, m, language=LANGUAGE) for y, m in months_with_items[:6])
            or "none yet"
        )
        asked = month_label(year, month, language=LANGUAGE)
        super().__init__(f"no news items for {asked} (months with items: {have})")
        self.year = year
        self.month = month
        self.months_with_items = months_with_items


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
    # The titles of the issue's items without a link: no "read more" under them.
    without_link: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class IssueDraft:
    """One month's issue read and rendered, not yet stored (see ``draft_issue``)."""

    month: str
    label: str
    items: int
    subject: str
    preheader: str
    meta: dict[str, Any]
    composition: Composition
    # The issue in our other languages: their words, dates, and the items' translations.
    versions: tuple[DraftVersion, ...] = ()
    compositions: dict[str, Composition] = field(default_factory=dict)


def draft_issue(
    session: Session, *, digest: Digest, year: int, month: int, composer: Composer
) -> IssueDraft | DigestRun:
    """Read the month's items and render the issue, in a session that need not write: the
    rendering is the slow part, and must not hold the write lock. A DigestRun instead
    when there is nothing to make (already made, or no news)."""
    key = f"{year:04d}-{month:02d}"
    label = month_label(year, month, language=LANGUAGE)
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
            message=str(
                NoNewsForMonth(year=year, month=month, months_with_items=months_with_items(session))
            )
            + ": no digest sent",
        )
    versions = {
        language: _issue_version(
            composer, key=key, year=year, month=month, items=items, language=language
        )
        for language in LANGUAGES
    }
    compositions = {
        language: composer.compose(
            content=version.content,
            template=TEMPLATE,
            subject=version.subject,
            preheader=version.preheader,
            language=language,
        )
        for language, version in versions.items()
    }
    default = versions[LANGUAGE]
    return IssueDraft(
        month=key,
        label=label,
        items=len(items),
        subject=default.subject,
        preheader=default.preheader,
        meta=default.content.meta,
        composition=compositions[LANGUAGE],
        versions=tuple(v for language, v in versions.items() if language != LANGUAGE),
        compositions=compositions,
    )


def _issue_version(
    composer: Composer, *, key: str, year: int, month: int, items: list[NewsItem], language: str
) -> DraftVersion:
    """The issue in ``language``: the layout's words and dates in it, and each item's
    title and summary where translated (the item's own otherwise)."""
    meta: dict[str, Any] = {"months": [_month(year, month, items, language)]}
    return DraftVersion(
        language=language,
        subject=_subject(composer, year, month, language),
        preheader=_preheader(len(items), year, month, language),
        content=Content(
            name=f"digest {key}", format=SourceFormat.MARKDOWN, body="", body_line=1, meta=meta
        ),
    )


def build_issue(
    session: Session,
    *,
    digest: Digest,
    year: int,
    month: int,
    composer: Composer,
    sender: str,
    now: datetime,
    draft: IssueDraft | None = None,
) -> DigestRun:
    """Build (and, with auto-send, queue) one month's issue, at most once per month.

    ``draft``: the issue from ``draft_issue``, rendered before this transaction began."""
    if draft is None:
        drafted = draft_issue(session, digest=digest, year=year, month=month, composer=composer)
        if isinstance(drafted, DigestRun):
            return drafted
        draft = drafted
    key, label = draft.month, draft.label
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
    campaign = Campaign(
        subject=draft.subject,
        preheader=draft.preheader,
        template=TEMPLATE,
        source_format=SourceFormat.MARKDOWN,
        source_name=f"digest {key}",
        body="",
        meta=draft.meta,
        from_address=sender,
        language=LANGUAGE,
        status=CampaignStatus.DRAFT,
        lists=[digest.mailing_list],
    )
    session.add(campaign)
    session.flush()
    store_versions(session, campaign=campaign, versions=draft.versions)
    try:
        with session.begin_nested():
            session.add(DigestIssue(digest_id=digest.id, month=key, campaign_id=campaign.id))
    except IntegrityError:  # another process built this month meanwhile
        session.delete(campaign)
        return DigestRun(
            month=key,
            campaign_id=None,
            items=draft.items,
            outcome="exists",
            message=f"the {label} digest was already made; nothing new",
        )
    if digest.auto_send:
        rendering = Rendering(
            campaign_id=campaign.id,
            updated_at=campaign.updated_at,
            editions=Editions.of(
                default=campaign.language,
                compositions=draft.compositions or {campaign.language: draft.composition},
            ),
        )
        queued = queue_campaign(
            session, campaign=campaign, composer=composer, now=now, rendering=rendering
        )
        return DigestRun(
            month=key,
            campaign_id=campaign.id,
            items=draft.items,
            outcome="sent",
            message=f"the {label} digest ({draft.items} stories) is sending to {queued} recipients",
            without_link=tuple(items_without_link(draft.meta)),
        )
    return DigestRun(
        month=key,
        campaign_id=campaign.id,
        items=draft.items,
        outcome="draft",
        message=f"the {label} digest ({draft.items} stories) waits for approval as "
        f"campaign {campaign.id}",
        without_link=tuple(items_without_link(draft.meta)),
    )


@dataclass(frozen=True, kw_only=True)
class Refreshed:
    """What ``refresh_issue`` did to a digest's draft."""

    campaign_id: int
    month: str
    items: int
    changed: bool
    without_link: tuple[str, ...]


def issue_month(session: Session, *, campaign_id: int) -> str | None:
    """The month (YYYY-MM) of the digest issue this campaign is, or None if it is not one."""
    return session.scalar(select(DigestIssue.month).where(DigestIssue.campaign_id == campaign_id))


def refresh_issue(session: Session, *, campaign_id: int, author: str, now: datetime) -> Refreshed:
    """Read a digest draft's month of news again, so that a link, a summary or a story
    given after the issue was built reaches it (the draft's own text is kept: its intro,
    and a subject staff rewrote). Every version's items are read again in its language; a
    preheader still saying the old number of stories says the new one. The change is a
    new revision of each version it changed; reading it again when nothing changed stores
    nothing."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    issue = session.scalar(select(DigestIssue).where(DigestIssue.campaign_id == campaign_id))
    if issue is None:
        raise NotAnIssue(campaign_id=campaign_id)
    check_editable(campaign)
    year, month = int(issue.month[:4]), int(issue.month[5:7])
    items = items_for_month(session, year=year, month=month)
    if not items:
        raise NoNewsForMonth(year=year, month=month, months_with_items=months_with_items(session))
    changed = False
    versions = select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
    for row in session.scalars(versions):
        if _read_again(row, year=year, month=month, items=items, language=row.language):
            row.updated_at = now
            session.flush()
            record_translation(session, row=row, author=author, now=now)
            changed = True
    default_changed = _read_again(
        campaign, year=year, month=month, items=items, language=campaign.language
    )
    if default_changed:
        campaign.updated_at = now
        session.flush()
        record_revision(session, campaign=campaign, author=author, now=now)
    session.flush()
    return Refreshed(
        campaign_id=campaign_id,
        month=issue.month,
        items=len(items),
        changed=changed or default_changed,
        without_link=tuple(items_without_link(campaign.meta)),
    )


def _read_again(
    edition: Campaign | CampaignVersion,
    *,
    year: int,
    month: int,
    items: list[NewsItem],
    language: str,
) -> bool:
    """Give the campaign (or one of its versions) the month's items as they now are;
    whether that changed anything."""
    before = edition.meta or {}
    meta = {**before, "months": [_month(year, month, items, language)]}
    said_before = sum(len(m.get("items") or []) for m in before.get("months") or [])
    preheader = edition.preheader
    if preheader == _preheader(said_before, year, month, language):
        preheader = _preheader(len(items), year, month, language)
    if (meta, preheader) == (before, edition.preheader):
        return False
    edition.meta, edition.preheader = meta, preheader
    return True


def items_without_link(meta: dict[str, Any]) -> list[str]:
    """The titles of a digest's items that have no link: no "read more" under them (a
    listing import gives such items), to flag before the issue goes out."""
    titles = []
    for month in meta.get("months") or []:
        for item in month.get("items") or []:
            if isinstance(item, dict) and not str(item.get("link") or "").strip():
                titles.append(str(item.get("title") or ""))
    return titles


def preview_issue(
    session: Session, *, year: int, month: int, composer: Composer
) -> tuple[Composition, int]:
    """What the issue for this month would be, stored nowhere; and how many items it has."""
    items = items_for_month(session, year=year, month=month)
    if not items:
        raise NoNewsForMonth(year=year, month=month, months_with_items=months_with_items(session))
    content = Content(
        name=f"digest {year:04d}-{month:02d}",
        format=SourceFormat.MARKDOWN,
        body="",
        body_line=1,
        meta={"months": [_month(year, month, items, LANGUAGE)]},
    )
    composition = composer.compose(
        content=content,
        template=TEMPLATE,
        subject=_subject(composer, year, month, LANGUAGE),
        preheader=_preheader(len(items), year, month, LANGUAGE),
        language=LANGUAGE,
    )
    return composition, len(items)


def _month(year: int, month: int, items: list[NewsItem], language: str) -> dict[str, object]:
    return {
        "label": month_label(year, month, language=language),
        "items": [_item(item, language) for item in items],
    }


def _item(item: NewsItem, language: str) -> dict[str, str]:
    title, summary = item_words(item, language=language)
    return {
        "category": item.category,
        "title": title,
        "date": format_date(item.published_on, language=language),
        "summary": summary,
        "link": item.link or "",
    }


def _subject(composer: Composer, year: int, month: int, language: str) -> str:
    unit = composer.unit.as_context(language)["name"]
    return gettext(
        "News from the %(unit)s: %(month)s",
        language=language,
        unit=unit,
        month=month_label(year, month, language=language),
    )


def _preheader(count: int, year: int, month: int, language: str) -> str:
    return ngettext(
        "%(num)s story from %(month)s",
        "%(num)s stories from %(month)s",
        count,
        language=language,
        month=month_label(year, month, language=language),
    )
