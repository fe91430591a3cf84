"""One row per image of the media library; the bytes live in a MediaStore."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.base import IDS_NEVER_REUSED, Base, IdType, UTCDateTime, utcnow

ALT_MAX = 500
FILENAME_MAX = 255


class MediaItem(Base):
    """An image as uploaded (cleaned of metadata) and its copy sized for mail.

    ``name`` and ``email_name`` are content-addressed file names (see store.py); a mail
    links to ``email_name``, the one at most 1,200 px wide."""

    __tablename__ = "media_items"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    email_name: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    email_width: Mapped[int] = mapped_column(Integer)
    email_height: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX), default="")
    alt_text: Mapped[str] = mapped_column(String(ALT_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
