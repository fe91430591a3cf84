"""Server-side sessions: the cookie holds 256 random bits, the database only their hash.

A session ends when idle for longer than the idle timeout, at the end of its absolute
lifetime, at logout, or when anything about its account's authority changes (password,
role, disabling, reset): :func:`revoke_all` is called by each of those use cases. A
login always starts a new session, so an id planted in a browser before login is
worthless after it. Each session has its own CSRF secret for the admin's forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from coopmail.config import Settings
from coopmail.staff import audit
from coopmail.staff.audit import StaffAction
from coopmail.staff.errors import SessionEnd, SessionInvalid
from coopmail.staff.models import IP_MAX, USER_AGENT_MAX, SessionStage, StaffAccount, StaffSession
from coopmail.staff.roles import Actor, Permission, require

TOKEN_BYTES = 32
# A session between password and second factor (or enrolment) lives this long at most.
PENDING_LIFETIME = timedelta(minutes=15)
# Recording every request would make each read a write; once a minute is exact enough.
TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_MAX = 100


@dataclass(frozen=True, kw_only=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle=timedelta(seconds=settings.session_idle_timeout),
            lifetime=timedelta(seconds=settings.session_lifetime),
        )

    def ends_at(self, staff_session: StaffSession) -> datetime:
        """When the session ends if it is used right now, whichever limit comes first."""
        lifetime = self.lifetime if staff_session.stage is SessionStage.ACTIVE else PENDING_LIFETIME
        return min(
            staff_session.created_at + lifetime,
            staff_session.last_seen_at + min(self.idle, lifetime),
        )


@dataclass(frozen=True, kw_only=True)
class NewSession:
    token: str  # for the cookie, never stored
    session: StaffSession


@dataclass(frozen=True, kw_only=True)
class Authenticated:
    account: StaffAccount
    session: StaffSession

    def actor(self, ip: str | None) -> Actor:
        return Actor(
            account_id=self.account.id, label=self.account.email, role=self.account.role, ip=ip
        )

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_secret

    def csrf_valid(self, presented: str) -> bool:
        """The form field (or X-CSRF-Token header) against this session's secret."""
        return bool(presented) and hmac.compare_digest(
            presented.encode("utf-8", "replace"), self.session.csrf_secret.encode()
        )

    def touch_due(self, now: datetime) -> bool:
        return now - self.session.last_seen_at >= TOUCH_EVERY


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(
    session: Session,
    *,
    account: StaffAccount,
    stage: SessionStage,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> NewSession:
    """A fresh session (never one the browser brought along)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = StaffSession(
        token_hash=token_hash(token),
        account_id=account.id,
        stage=stage,
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        ip=ip[:IP_MAX] if ip else None,
        user_agent=user_agent[:USER_AGENT_MAX] if user_agent else None,
    )
    session.add(row)
    session.flush()
    return NewSession(token=token, session=row)


def authenticate(
    session: Session,
    *,
    token: str,
    policy: SessionPolicy,
    now: datetime,
    stage: SessionStage = SessionStage.ACTIVE,
) -> Authenticated:
    """The live session ``token`` names, at ``stage``, with its enabled account; else
    SessionInvalid saying why. Reads only: call :func:`touch` when ``touch_due``."""
    found = None
    if 0 < len(token) <= _TOKEN_MAX:
        found = session.execute(
            select(StaffSession, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
            .where(StaffSession.token_hash == token_hash(token))
        ).one_or_none()
    if found is None or found[1].disabled:
        raise SessionInvalid(SessionEnd.UNKNOWN)
    staff_session, account = found
    if now >= policy.ends_at(staff_session):
        lifetime = (
            policy.lifetime if staff_session.stage is SessionStage.ACTIVE else PENDING_LIFETIME
        )
        ended = now >= staff_session.created_at + lifetime
        raise SessionInvalid(SessionEnd.EXPIRED if ended else SessionEnd.IDLE)
    if staff_session.stage is not stage:
        raise SessionInvalid(SessionEnd.INCOMPLETE)
    return Authenticated(account=account, session=staff_session)


def touch(session: Session, *, session_id: int, now: datetime) -> None:
    """Note the session's use, which pushes its idle end back."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end_session(session: Session, *, token: str, ip: str | None, now: datetime) -> bool:
    """Logout: the session is deleted and the logout recorded; False if it was gone."""
    found = session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.token_hash == token_hash(token))
    ).one_or_none()
    if found is None:
        return False
    staff_session, account = found
    session.delete(staff_session)
    actor = Actor(account_id=account.id, label=account.email, role=account.role, ip=ip)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.LOGOUT,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return True


def revoke_all(session: Session, *, account_id: int) -> int:
    """End every session of the account (no audit entry: the caller's action has one)."""
    result = session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
    return int(getattr(result, "rowcount", 0) or 0)


def list_sessions(
    session: Session, *, actor: Actor, account_id: int, policy: SessionPolicy, now: datetime
) -> list[StaffSession]:
    """The account's live sessions, newest first: one's own, or anyone's for an owner."""
    if actor.account_id != account_id:
        require(actor, Permission.MANAGE_STAFF)
    rows = session.scalars(
        select(StaffSession)
        .where(StaffSession.account_id == account_id)
        .order_by(StaffSession.created_at.desc(), StaffSession.id.desc())
    )
    return [row for row in rows if now < policy.ends_at(row)]


def revoke_session(session: Session, *, actor: Actor, session_id: int, now: datetime) -> bool:
    """End one session (one's own, or anyone's for an owner); False if it was gone."""
    row = session.get(StaffSession, session_id)
    if row is None:
        return False
    if actor.account_id != row.account_id:
        require(actor, Permission.MANAGE_STAFF)
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.SESSION_REVOKED,
        now=now,
        target_type="staff",
        target_id=row.account_id,
        details={"session_id": session_id},
    )
    return True


def purge_sessions(session: Session, *, policy: SessionPolicy, now: datetime) -> int:
    """Delete the sessions that have ended (they are refused anyway); the number deleted."""
    pending = [SessionStage.SECOND_FACTOR, SessionStage.ENROL]
    result = session.execute(
        delete(StaffSession).where(
            or_(
                StaffSession.last_seen_at <= now - policy.idle,
                StaffSession.created_at <= now - policy.lifetime,
                StaffSession.stage.in_(pending)
                & (StaffSession.created_at <= now - PENDING_LIFETIME),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
