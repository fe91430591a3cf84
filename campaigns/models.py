"""The campaigns package's tables: campaigns and the lists they go to, their versions and
revisions, the outbox's deliveries, bounce events, and the monthly digests."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
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

from mailer.bounces import DIAGNOSTIC_MAX, BounceKind
from subscribers.base import (
    IDS_NEVER_REUSED,
    Base,
    IdType,
    JsonType,
    UTCDateTime,
    portable_enum,
    utcnow,
)
from subscribers.models import EMAIL_MAX, TIME_ZONE_MAX, MailingList


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
    # "At this hour in each partner's time zone": the wall-clock time (``2027-01-15T09:00``,
    # no offset) each recipient gets it at in their zone (campaigns.zones); None: at once.
    local_send_time: Mapped[str | None] = mapped_column(String(16), default=None)
    # Of the recipients of such a send, how many had a `timezone` attribute that names no
    # zone, and so got the hour in their list's (or the unit's) zone instead.
    zone_fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Shown on the public archive (/archive) once it has gone out (campaigns/archive.py).
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

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
    # Which language version and which variant of it this person gets, chosen when the
    # send starts (campaigns.editions); None: the default version's only variant.
    version: Mapped[str | None] = mapped_column(String(35), default=None)
    variant: Mapped[int | None] = mapped_column(Integer, default=None)
    # The zone whose local hour this row waits for (a send at a local hour); its first
    # next_attempt_at is that hour there, so the claim releases the zones in turn.
    time_zone: Mapped[str | None] = mapped_column(String(TIME_ZONE_MAX), default=None)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CampaignVersion(Base):
    """The campaign in one more language: its own subject, preheader, body and kind fields.

    The default version lives on the campaign itself; the template, lists and sender are
    the campaign's, shared by every version."""

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "language"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(String(998))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    source_format: Mapped[SourceFormat] = mapped_column(
        portable_enum(SourceFormat, "source_format")
    )
    source_name: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CampaignRevision(Base):
    """One saved version of a campaign's content: who saved it, when, and its source.

    Every save of a draft writes one, so any version can be read, compared and restored;
    they go with their campaign. A translation's saves are revisions too, numbered in the
    same sequence, so that a number names one revision whichever version it is of."""

    __tablename__ = "campaign_revisions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... within the campaign
    author: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_format: Mapped[SourceFormat] = mapped_column(
        portable_enum(SourceFormat, "source_format")
    )
    source: Mapped[str] = mapped_column(Text)  # front matter and body, as a file would hold
    # The revision this one brought back, when it was a restore.
    restored_from: Mapped[int | None] = mapped_column(Integer, default=None)
    # The translation it is a revision of; None for the default version (the campaign
    # itself), whose language may change without its history changing hands.
    language: Mapped[str | None] = mapped_column(String(35), default=None)


class BounceEvent(Base):
    """One message read from the bounce mailbox that meant something."""

    __tablename__ = "bounce_events"
    __table_args__ = (
        Index("ix_bounce_events_subscriber_id_received_at", "subscriber_id", "received_at"),
        Index("ix_bounce_events_email", "email"),
        Index("ix_bounce_events_campaign_id_kind", "campaign_id", "kind"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    message_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[BounceKind] = mapped_column(portable_enum(BounceKind, "bounce_kind"))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), default=None)
    # CASCADE: erasing a person erases what their bounces said about them.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), default=None
    )
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), default=None
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str | None] = mapped_column(String(20), default=None)
    diagnostic: Mapped[str] = mapped_column(String(DIAGNOSTIC_MAX), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
