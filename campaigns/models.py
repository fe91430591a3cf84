"""Campaigns and the lists they go to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.base import (
    IDS_NEVER_REUSED,
    Base,
    IdType,
    JsonType,
    UTCDateTime,
    portable_enum,
    utcnow,
)
from subscribers.models import MailingList


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


FINAL_STATES = (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.SKIPPED)


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
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    subject: Mapped[str] = mapped_column(String(998))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    template: Mapped[str] = mapped_column(String(100))
    source_format: Mapped[SourceFormat] = mapped_column(
        portable_enum(SourceFormat, "source_format")
    )
    source_name: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    from_address: Mapped[str] = mapped_column(String(998))
    reply_to: Mapped[str | None] = mapped_column(String(998), default=None)
    language: Mapped[str] = mapped_column(String(35), default="en")
    status: Mapped[CampaignStatus] = mapped_column(
        portable_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # The rendering every worker sends from, frozen when the send starts (render once).
    rendered: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When a scheduled campaign should start; the scheduler mirrors this into its job store.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    lists: Mapped[list[MailingList]] = relationship(
        secondary=campaign_lists, order_by="MailingList.name"
    )


class Delivery(Base):
    """One recipient of one campaign: the outbox row whose state is the truth of the send."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        Index("ix_deliveries_claim", "campaign_id", "state", "next_attempt_at"),
        Index("ix_deliveries_lease", "state", "lease_expires_at"),
        Index("ix_deliveries_sent_at", "sent_at"),
        # Finding the delivery a bounce returns by its Message-ID must not scan the outbox.
        Index("ix_deliveries_message_id", "message_id"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # SET NULL: erasing a person must not erase the campaign's statistics.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), default=None
    )
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("lists.id", ondelete="SET NULL"), default=None
    )
    state: Mapped[DeliveryState] = mapped_column(
        portable_enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_reply: Mapped[str] = mapped_column(String(500), default="")
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
