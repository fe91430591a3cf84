"""The news item as stored, and the limits of its fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.base import Base, IdType, JsonType, UTCDateTime, utcnow
from subscribers.models import LANGUAGE_MAX

TITLE_MAX = 300
CATEGORY_MAX = 100
LINK_MAX = 2000
EXTERNAL_ID_MAX = 500
SOURCE_MAX = LINK_MAX + 100  # "feed:" and a feed address, or "csv:" and a file name
SUMMARY_MAX = 10_000
STAFF_SOURCE = "staff"


class NewsItem(Base):
    """One piece of news a newsletter can carry; ``source`` says where it came from."""

    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    published_on: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # Unique where present (NULLs never collide): the same link is the same news, whoever sent it.
    link: Mapped[str | None] = mapped_column(String(LINK_MAX), unique=True, default=None)
    image_url: Mapped[str | None] = mapped_column(String(LINK_MAX), default=None)
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), default=None)
    # The title and summary in other languages: {"fr": {"title": ..., "summary": ...}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    # A feed entry's id: found again even when the entry's link changes.
    external_id: Mapped[str | None] = mapped_column(
        String(EXTERNAL_ID_MAX), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
