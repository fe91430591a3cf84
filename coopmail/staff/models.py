"""The staff tables: accounts, their sessions, single-use links, recovery codes, and the
append-only audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coopmail.staff.roles import Role
from subscribers.base import IDS_NEVER_REUSED, Base, IdType, JsonType, UTCDateTime, portable_enum

EMAIL_MAX = 254
NAME_MAX = 200
IP_MAX = 45  # the longest textual IPv6 address
USER_AGENT_MAX = 200


class SessionStage(enum.StrEnum):
    ACTIVE = "active"
    SECOND_FACTOR = "second_factor"  # the password was right; the code is still due
    ENROL = "enrol"  # the password was right; the account must set up a second factor


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"  # first login: choose a password
    RESET = "reset"


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)  # always lower case
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    role: Mapped[Role] = mapped_column(portable_enum(Role, "staff_role"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    second_factor_required: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def second_factor_enabled(self) -> bool:
        return self.totp_secret is not None


class StaffSession(Base):
    """A login. The cookie holds a random id; only its SHA-256 hash is stored here."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[SessionStage] = mapped_column(portable_enum(SessionStage, "session_stage"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(IP_MAX), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX), default=None)


class StaffLink(Base):
    """A reset or first-login link: the signed token names this row, which records its
    single use."""

    __tablename__ = "staff_links"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(portable_enum(LinkPurpose, "link_purpose"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RecoveryCode(Base):
    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEntry(Base):
    """One staff action. Rows are only ever added: triggers refuse UPDATE and DELETE.

    The actor is kept as an id and the address it had, with no foreign key, so an entry
    outlives any change to the account."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    actor: Mapped[str] = mapped_column(String(EMAIL_MAX))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40), default=None)
    target_id: Mapped[str | None] = mapped_column(String(100), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(IP_MAX), default=None)
