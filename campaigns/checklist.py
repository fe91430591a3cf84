"""The checklist before sending: computed from the campaign as it would go out, not ticked.

Each item says ok, warn or fail (or skipped, with the reason), with its findings as data
for the shell to word: the command line prints them, the API returns them, the admin shows
them beside the send button. It reads the message one recipient would get, rendered by
the composer of the send.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.digest import items_without_link
from campaigns.drafts import get_campaign, preview_campaign
from campaigns.models import Campaign
from mailer.headers import parse_address
from subscribers.models import Subscriber, Subscription, SubscriptionStatus, Suppression


class Verdict(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True)
class CheckItem:
    name: str
    verdict: Verdict
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict.value, "detail": self.detail}


@dataclass(frozen=True, kw_only=True)
class Checklist:
    campaign_id: int
    items: list[CheckItem]

    @property
    def failed(self) -> bool:
        return any(item.verdict is Verdict.FAIL for item in self.items)


@dataclass(frozen=True, kw_only=True)
class SpamScore:
    score: float
    required: float
    rules: list[str]


# Scores a whole message (the shell runs SpamAssassin); None when it gave no verdict.
SpamScorer = Callable[[bytes], SpamScore | None]


def check_campaign(
    session: Session,
    *,
    composer: Composer,
    campaign_id: int,
    base_url: str,
    key: bytes,
    now: datetime,
    dkim_domain: str | None,
    spam_scorer: SpamScorer | None,
) -> Checklist:
    """Every item, in the order a person reads them before sending."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    preview = preview_campaign(
        session, composer=composer, campaign=campaign, base_url=base_url, key=key, now=now
    )
    page = _Page()
    page.feed(preview.html)
    items = [
        _subject(campaign),
        _dkim(campaign, dkim_domain),
        _images(page),
        _unsubscribe(preview.html, preview.text, base_url),
        _links(page),
        _recipients(session, campaign),
    ]
    if campaign.template == "digest":
        items.append(_digest_links(campaign))
    items.append(_spam(preview.message, spam_scorer))
    return Checklist(campaign_id=campaign.id, items=items)


def _subject(campaign: Campaign) -> CheckItem:
    detail = {"subject": campaign.subject, "preheader": campaign.preheader}
    if not campaign.subject.strip():
        return CheckItem(name="subject_and_preheader", verdict=Verdict.FAIL, detail=detail)
    verdict = Verdict.OK if campaign.preheader.strip() else Verdict.WARN
    return CheckItem(name="subject_and_preheader", verdict=verdict, detail=detail)


def _dkim(campaign: Campaign, dkim_domain: str | None) -> CheckItem:
    domain = parse_address(campaign.from_address)[1].rpartition("@")[2].lower()
    detail: dict[str, Any] = {"sender_domain": domain, "signing_domain": dkim_domain}
    if dkim_domain is None:
        return CheckItem(name="dkim", verdict=Verdict.FAIL, detail=detail)
    signing = dkim_domain.lower()
    aligned = domain == signing or domain.endswith("." + signing)
    return CheckItem(name="dkim", verdict=Verdict.OK if aligned else Verdict.FAIL, detail=detail)


def _images(page: _Page) -> CheckItem:
    missing = [src for src, alt in page.images if not (alt or "").strip()]
    return CheckItem(
        name="image_alt_text",
        verdict=Verdict.FAIL if missing else Verdict.OK,
        detail={"images": len(page.images), "without_alt": missing},
    )


def _unsubscribe(html: str, text: str, base_url: str) -> CheckItem:
    prefix = f"{base_url}/u/"
    detail = {"in_html": prefix in html, "in_text": prefix in text}
    verdict = Verdict.OK if all(detail.values()) else Verdict.FAIL
    return CheckItem(name="unsubscribe_link", verdict=verdict, detail=detail)


def _links(page: _Page) -> CheckItem:
    broken, plain = [], []
    for href in page.links:
        problem = _link_problem(href)
        if problem == "http":
            plain.append(href)
        elif problem:
            broken.append({"href": href, "problem": problem})
    verdict = Verdict.FAIL if broken else Verdict.WARN if plain else Verdict.OK
    return CheckItem(
        name="links",
        verdict=verdict,
        detail={"links": len(page.links), "malformed": broken, "not_https": plain},
    )


def _link_problem(href: str) -> str | None:
    if not href or any(ch.isspace() for ch in href):
        return "empty or has spaces"
    parts = urlsplit(href)
    if parts.scheme == "mailto":
        return None if "@" in parts.path else "mailto without an address"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or 'missing'}"
    if not parts.hostname:
        return "no host"
    return "http" if parts.scheme == "http" else None


def _recipients(session: Session, campaign: Campaign) -> CheckItem:
    suppressed = exists().where(Suppression.email == Subscriber.email)
    per_list = []
    for mailing_list in campaign.lists:
        count = session.scalar(
            select(func.count())
            .select_from(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscription.list_id == mailing_list.id)
            .where(Subscription.status == SubscriptionStatus.CONFIRMED)
            .where(~suppressed)
        )
        per_list.append({"list": mailing_list.name, "recipients": int(count or 0)})
    total = session.scalar(
        select(func.count(distinct(Subscription.subscriber_id)))
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscription.list_id.in_([ml.id for ml in campaign.lists]))
        .where(Subscription.status == SubscriptionStatus.CONFIRMED)
        .where(~suppressed)
    )
    total = int(total or 0)
    return CheckItem(
        name="recipients",
        verdict=Verdict.OK if total else Verdict.FAIL,
        detail={"lists": per_list, "total": total},
    )


def _digest_links(campaign: Campaign) -> CheckItem:
    missing = items_without_link(campaign.meta)
    return CheckItem(
        name="digest_item_links",
        verdict=Verdict.WARN if missing else Verdict.OK,
        detail={"without_link": missing},
    )


def _spam(message: bytes, scorer: SpamScorer | None) -> CheckItem:
    if scorer is None:
        return CheckItem(
            name="spam_score", verdict=Verdict.SKIPPED, detail={"reason": "not_installed"}
        )
    result = scorer(message)
    if result is None:
        return CheckItem(
            name="spam_score", verdict=Verdict.SKIPPED, detail={"reason": "no_verdict"}
        )
    verdict = (
        Verdict.FAIL
        if result.score >= result.required
        else Verdict.WARN
        if result.score >= result.required / 2
        else Verdict.OK
    )
    return CheckItem(
        name="spam_score",
        verdict=verdict,
        detail={"score": result.score, "required": result.required, "rules": result.rules},
    )


class _Page(HTMLParser):
    """The images (src, alt) and link targets of a rendered mail."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append((values.get("src") or "", values.get("alt")))
        elif tag == "a" and "href" in values:
            self.links.append((values.get("href") or "").strip())
