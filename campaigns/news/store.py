"""The one upsert every importer funnels into, so that a re-import changes nothing.

An item is the same item when it has the same link, the same feed entry id from the same
feed, or, having no link, the same title and date."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.news.models import SOURCE_MAX, NewsItem
from campaigns.news.validation import FIELDS, Candidate


@dataclass(kw_only=True)
class NewsImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)  # "where: why", one per rejection

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def reject(self, where: str, why: str, *, count: int = 1) -> None:
        self.rejected += count
        self.reasons.append(f"{where}: {why}")


def source_of(kind: str, name: str) -> str:
    return f"{kind}:{name}"[:SOURCE_MAX]


def store(session: Session, candidate: Candidate, source: str, summary: NewsImportSummary) -> None:
    """Insert, update or leave alone the item this (validated) candidate is."""
    item = _existing(session, candidate, source)
    if item is None:
        session.add(
            NewsItem(
                source=source,
                external_id=candidate.external_id,
                **{name: getattr(candidate, name) for name in FIELDS},
            )
        )
        session.flush()
        summary.added += 1
        return
    wanted = {name: getattr(candidate, name) for name in FIELDS}
    if candidate.link is None:
        wanted["link"] = item.link  # a listing without links never takes a known link away
    if candidate.external_id is not None and item.source == source:
        wanted["external_id"] = candidate.external_id
    changed = {name: value for name, value in wanted.items() if getattr(item, name) != value}
    if not changed:
        summary.unchanged += 1
        return
    for name, value in changed.items():
        setattr(item, name, value)
    session.flush()
    summary.updated += 1


def _existing(session: Session, candidate: Candidate, source: str) -> NewsItem | None:
    if candidate.link is not None:
        found = session.scalar(select(NewsItem).where(NewsItem.link == candidate.link))
        if found is not None:
            return found
    if candidate.external_id is not None:
        found = session.scalar(
            select(NewsItem)
            .where(NewsItem.source == source, NewsItem.external_id == candidate.external_id)
            .limit(1)
        )
        if found is not None:
            return found
    if candidate.link is None:
        return session.scalar(
            select(NewsItem)
            .where(
                NewsItem.title == candidate.title,
                NewsItem.published_on == candidate.published_on,
            )
            .order_by(NewsItem.id)
            .limit(1)
        )
    return None
