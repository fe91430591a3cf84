"""Subscribers, lists, subscriptions, consent records and suppressions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
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

EMAIL_MAX = 254
NAME_MAX = 200
LANGUAGE_MAX = 35
TIME_ZONE_MAX = 64  # the longest IANA name has 32 characters
LIST_NAME_MAX = 63


class OptIn(enum.StrEnum):
    SINGLE = "single"
    DOUBLE = "double"


class SubscriptionStatus(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class ConsentSource(enum.StrEnum):
    FORM = "form"
    IMPORT = "import"
    API = "api"
    STAFF = "staff"
    EMAIL = "email"  # a mail to the List-Unsubscribe mailto, or a spam complaint


class ConsentAction(enum.StrEnum):
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"
    ERASED = "erased"


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        # The address search's prefix index on PostgreSQL (LIKE 'prefix%' in any collation).
        # SQLite's unique index already serves a prefix range, so its copy is kept empty.
        Index(
            "ix_subscribers_email_prefix",
            "email",
            postgresql_ops={"email": "text_pattern_ops"},
            sqlite_where=text("0"),
        ),
        Index("ix_subscribers_language_id", "language", "id"),
        Index("ix_subscribers_created_at", "created_at"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    # Stored normalised and lower-cased, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )
    consent_records: Mapped[list[ConsentRecord]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


class MailingList(Base):
    __tablename__ = "lists"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(LIST_NAME_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opt_in: Mapped[OptIn] = mapped_column(portable_enum(OptIn, "opt_in"), default=OptIn.DOUBLE)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language its subscribers read when they gave none (a French-speaking list).
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), default=None)
    # The title and description in other languages: {"fr": {"title": ..., "description": ...}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The IANA zone its subscribers live in when they gave none (a campaign sent at a
    # local hour reaches them at that hour there); None: the unit's zone.
    time_zone: Mapped[str | None] = mapped_column(String(TIME_ZONE_MAX), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="mailing_list", cascade="all, delete-orphan", passive_deletes=True
    )


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "list_id"),
        # A list's people by status, newest first (the sends' queue and the admin's filter).
        Index(
            "ix_subscriptions_list_id_status_subscriber_id", "list_id", "status", "subscriber_id"
        ),
        Index("ix_subscriptions_list_id_subscriber_id", "list_id", "subscriber_id"),
        Index("ix_subscriptions_unsubscribed_at", "unsubscribed_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        portable_enum(SubscriptionStatus, "subscription_status")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship(back_populates="subscriptions")


class ConsentRecord(Base):
    """Proof of what a person agreed to, when, and how: kept for every change of consent."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("lists.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[ConsentAction] = mapped_column(portable_enum(ConsentAction, "consent_action"))
    source: Mapped[ConsentSource] = mapped_column(portable_enum(ConsentSource, "consent_source"))
    wording: Mapped[str] = mapped_column(Text, default="")
    ip_address: Mapped[str | None] = mapped_column(String(45), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="consent_records")


class Suppression(Base):
    """An address that must never be mailed.

    Keyed by a hash so the entry outlives erasure of the address itself.
    """

    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_email", "email"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), default=None)
    reason: Mapped[SuppressionReason] = mapped_column(
        portable_enum(SuppressionReason, "suppression_reason")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
