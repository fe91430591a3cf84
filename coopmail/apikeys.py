"""API keys: create, list, revoke, and check a presented key.

A key is ``cm_<prefix>_<secret>``. Only the prefix (to find the row and to show staff
which key is which) and a SHA-256 hash of the secret are stored, so a copy of the
database gives nobody a working key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from coopmail.errors import CoopmailError
from coopmail.ids import row_id
from subscribers.base import Base, IdType, UTCDateTime, utcnow

NAME_MAX = 100
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ._-]{{0,{NAME_MAX - 1}}}")
_KEY = re.compile(r"cm_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
# Recording every use would make each read a write; once a minute is exact enough.
USE_RECORDED_EVERY = timedelta(minutes=1)
_NEVER_MATCHES = hashlib.sha256(b"coopmail: no such key").hexdigest()


class ApiKeyError(CoopmailError):
    pass


class ApiKeyNotFound(ApiKeyError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"there is no API key {reference!r}; see `coopmail apikeys list`")


class ApiKeyExists(ApiKeyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an API key named {name!r} already exists; choose another name")


class InvalidApiKeyName(ApiKeyError):
    pass


class InvalidApiKey(ApiKeyError):
    """The presented key is malformed, unknown or revoked (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("the API key is missing, invalid or revoked")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(frozen=True, kw_only=True)
class NewApiKey:
    key: ApiKey
    token: str  # the whole key: shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_api_key(session: Session, *, name: str) -> NewApiKey:
    name = name.strip()
    if not _NAME.fullmatch(name) or name.isdigit():
        raise InvalidApiKeyName(
            f"API key name {name!r} must be 1 to {NAME_MAX} letters, digits, spaces, dots, "
            "hyphens or underscores, start with a letter or digit and not be a number"
        )
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ApiKeyExists(name)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=prefix, secret_hash=_hash(secret), created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:  # a concurrent create took the name (or, rarely, the prefix)
        raise ApiKeyExists(name) from None
    return NewApiKey(key=key, token=f"cm_{prefix}_{secret}")


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_api_key(session: Session, *, reference: str, now: datetime) -> ApiKey:
    """Revoke the key with this name or id; revoking twice keeps the first time."""
    reference = reference.strip()
    condition = ApiKey.name == reference
    if (key_id := row_id(reference)) is not None:
        condition = or_(condition, ApiKey.id == key_id)
    key = session.scalar(select(ApiKey).where(condition))
    if key is None:
        raise ApiKeyNotFound(reference)
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key


def authenticate(session: Session, *, token: str) -> ApiKey:
    """The live key ``token`` is, or InvalidApiKey; the hashes compare in constant time."""
    match = _KEY.fullmatch(token)
    key = None
    if match is not None:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    # An unknown prefix still costs a hash comparison, so timing tells nothing either way.
    presented = _hash(match.group(2)) if match is not None else ""
    expected = key.secret_hash if key is not None else _NEVER_MATCHES
    if not hmac.compare_digest(presented, expected) or key is None or key.revoked_at is not None:
        raise InvalidApiKey
    return key


def use_due(key: ApiKey, *, now: datetime) -> bool:
    return key.last_used_at is None or now - key.last_used_at >= USE_RECORDED_EVERY


def record_use(session: Session, *, key_id: int, now: datetime) -> None:
    """Note that the key was used, at most once per USE_RECORDED_EVERY (however many
    requests race to do it)."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - USE_RECORDED_EVERY))
        .values(last_used_at=now)
    )
