"""Items by month: what a monthly newsletter carries, and how staff name a day or a month."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.news.errors import NewsError
from campaigns.news.models import NewsItem
from templates.catalogs import format_date

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def list_items(session: Session, *, month: str | None = None, limit: int = 50) -> list[NewsItem]:
    """The newest items, of one month (YYYY-MM) when given."""
    query = select(NewsItem)
    if month is not None:
        first, after = month_bounds(*parse_month(month))
        query = query.where(NewsItem.published_on >= first, NewsItem.published_on < after)
    query = query.order_by(NewsItem.published_on.desc(), NewsItem.id.desc()).limit(limit)
    return list(session.scalars(query))


def months_with_items(session: Session) -> list[tuple[int, int]]:
    """(year, month) of every month that has news items, newest first."""
    dates = session.scalars(select(NewsItem.published_on).distinct())
    return sorted({(day.year, day.month) for day in dates}, reverse=True)


def items_for_month(session: Session, *, year: int, month: int) -> list[NewsItem]:
    """Every item published in one month, newest first: what a monthly newsletter carries."""
    if not 1 <= month <= 12:
        raise NewsError(f"month must be 1 to 12, not {month}")
    first, after = month_bounds(year, month)
    query = (
        select(NewsItem)
        .where(NewsItem.published_on >= first, NewsItem.published_on < after)
        .order_by(NewsItem.published_on.desc(), NewsItem.id.desc())
    )
    return list(session.scalars(query))


def parse_day(value: str) -> date:
    """A YYYY-MM-DD date, or a one-line NewsError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    try:
        if match is None:
            raise ValueError
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise NewsError(f"date {value!r} is not a date written YYYY-MM-DD") from None


def parse_month(value: str) -> tuple[int, int]:
    """(year, month) from YYYY-MM, or a one-line NewsError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise NewsError(f"month {value!r} is not a month written YYYY-MM, such as 2022-04")
    return int(match[1]), int(match[2])


def month_label(year: int, month: int, *, language: str) -> str:
    """``November 2026``, ``novembre 2026``: a month on its own, as ``language`` writes it
    (the digest's subject and heading, the admin's pages, the approval mail)."""
    return format_date(date(year, month, 1), language=language, format="LLLL y")


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1)
