"""Campaigns and the lists they go to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Enum, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.base import Base, IdType, JsonType, UTCDateTime, utcnow
from subscribers.models import MailingList


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class SourceFormat(enum.StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"


campaign_lists = Table(
    "campaign_lists",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("list_id", ForeignKey("lists.id", ondelete="RESTRICT"), primary_key=True),
)


class Campaign(Base):
    """A mail as staff wrote it: the source is kept verbatim so it can be rendered again."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    subject: Mapped[str] = mapped_column(String(998))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    template: Mapped[str] = mapped_column(String(100))
    source_format: Mapped[SourceFormat] = mapped_column(
        Enum(
            SourceFormat,
            name="source_format",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    source_name: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    from_address: Mapped[str] = mapped_column(String(998))
    reply_to: Mapped[str | None] = mapped_column(String(998), default=None)
    language: Mapped[str] = mapped_column(String(35), default="en")
    status: Mapped[CampaignStatus] = mapped_column(
        Enum(
            CampaignStatus,
            name="campaign_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
        ),
        default=CampaignStatus.DRAFT,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lists: Mapped[list[MailingList]] = relationship(
        secondary=campaign_lists, order_by="MailingList.name"
    )
