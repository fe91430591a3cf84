"""Rate limits and login throttles counted in the database, so every process shares them.

A limit is "at most ``limit`` events per key in any ``seconds`` long window". Events are
counted in small buckets, rows of (limit name, key hash, bucket start, count): a window is
the sum of the buckets that overlap it, so a key costs at most ``BUCKETS_PER_WINDOW``
rows however busy it is, and the count is never lower than the true sliding-window count
(an event is remembered for between one window and one window plus a bucket).

Counting is an upsert followed by a read of the sum in the same transaction, so two
processes that hit the same key at once both see each other: on PostgreSQL the upsert
locks the bucket's row until commit, on SQLite writers take the database lock. Keys are
stored as SHA-256 hashes: the table never holds an address or an IP in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from subscribers.base import Base

BUCKETS_PER_WINDOW = 60
NAME_MAX = 40


class ThrottleCount(Base):
    __tablename__ = "throttle_counts"

    name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    count: Mapped[int] = mapped_column(Integer)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)  # Unix seconds; then purged


@dataclass(frozen=True, kw_only=True)
class Limit:
    """A named rule; the name keeps different rules' counts of one key apart."""

    name: str
    limit: int
    seconds: int

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= NAME_MAX or self.limit < 1 or self.seconds < 1:
            raise ValueError(f"not a usable limit: {self!r}")

    @property
    def bucket_seconds(self) -> int:
        return max(1, self.seconds // BUCKETS_PER_WINDOW)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    allowed: bool
    count: int  # events in the window, this one included when it was counted
    retry_after: int  # seconds until one more event would be allowed; 0 when allowed


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def network_key(host: str) -> str:
    """What a per-visitor limit counts: the IP address, but for IPv6 its /64 network,
    which one home or server usually holds whole: counting each address would let one
    visitor through billions of times."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


def peek(session: Session, *, limit: Limit, key: str, now: datetime) -> Verdict:
    """Whether one more event would be allowed, counting nothing."""
    buckets = _buckets(session, limit, key_hash(key), _seconds(now))
    count = sum(buckets.values())
    if count < limit.limit:
        return Verdict(allowed=True, count=count, retry_after=0)
    return Verdict(
        allowed=False, count=count, retry_after=_retry_after(limit, buckets, _seconds(now))
    )


def hit(session: Session, *, limit: Limit, key: str, now: datetime) -> Verdict:
    """Count one event unless the window is full; a refused event is not counted, so a
    client that keeps knocking is let in as soon as its old events age out."""
    verdict = record(session, limit=limit, key=key, now=now)
    if verdict.count <= limit.limit:
        return Verdict(allowed=True, count=verdict.count, retry_after=0)
    release(session, limit=limit, key=key, now=now)
    hashed, moment = key_hash(key), _seconds(now)
    buckets = _buckets(session, limit, hashed, moment)
    return Verdict(
        allowed=False,
        count=sum(buckets.values()),
        retry_after=_retry_after(limit, buckets, moment),
    )


def record(session: Session, *, limit: Limit, key: str, now: datetime) -> Verdict:
    """Count one event whatever the window holds (a failed login counts even when the
    account is already throttled); ``allowed`` says whether it was within the limit."""
    hashed, moment = key_hash(key), _seconds(now)
    bucket = moment - moment % limit.bucket_seconds
    values = {
        "name": limit.name,
        "key_hash": hashed,
        "bucket": bucket,
        "count": 1,
        "expires": bucket + limit.bucket_seconds + limit.seconds,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ThrottleCount).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name", "key_hash", "bucket"],
            set_={"count": ThrottleCount.count + 1},
        )
    )
    buckets = _buckets(session, limit, hashed, moment)
    count = sum(buckets.values())
    if count <= limit.limit:
        return Verdict(allowed=True, count=count, retry_after=0)
    return Verdict(allowed=False, count=count, retry_after=_retry_after(limit, buckets, moment))


def release(session: Session, *, limit: Limit, key: str, now: datetime) -> None:
    """Take back one event counted at ``now`` (a login attempt that turned out right
    must not count against the visitor's network)."""
    moment = _seconds(now)
    session.execute(
        update(ThrottleCount)
        .where(
            ThrottleCount.name == limit.name,
            ThrottleCount.key_hash == key_hash(key),
            ThrottleCount.bucket == moment - moment % limit.bucket_seconds,
            ThrottleCount.count > 0,
        )
        .values(count=ThrottleCount.count - 1)
    )


def clear(session: Session, *, limit: Limit, key: str) -> None:
    """Forget every event of ``key`` under ``limit`` (a successful login clears the
    account's failures)."""
    session.execute(
        delete(ThrottleCount).where(
            ThrottleCount.name == limit.name, ThrottleCount.key_hash == key_hash(key)
        )
    )


def purge(session: Session, *, now: datetime) -> int:
    """Delete the buckets no window can reach any more; the number deleted."""
    result = session.execute(delete(ThrottleCount).where(ThrottleCount.expires <= _seconds(now)))
    return int(getattr(result, "rowcount", 0) or 0)


def _seconds(now: datetime) -> int:
    if now.tzinfo is None:
        raise ValueError("naive datetime given where an aware UTC time is required")
    return math.floor(now.timestamp())


def _buckets(session: Session, limit: Limit, hashed: str, moment: int) -> dict[int, int]:
    """The counts of the buckets that overlap the window ending at ``moment``."""
    rows = session.execute(
        select(ThrottleCount.bucket, ThrottleCount.count).where(
            ThrottleCount.name == limit.name,
            ThrottleCount.key_hash == hashed,
            ThrottleCount.bucket > moment - limit.seconds - limit.bucket_seconds,
        )
    )
    return {int(bucket): int(count) for bucket, count in rows}


def _retry_after(limit: Limit, buckets: dict[int, int], moment: int) -> int:
    """Seconds until enough of the oldest buckets leave the window for one more event."""
    excess = sum(buckets.values()) - limit.limit + 1
    for bucket in sorted(buckets):
        excess -= buckets[bucket]
        if excess <= 0:
            return max(1, bucket + limit.bucket_seconds + limit.seconds - moment)
    return limit.seconds  # only for a window that was not full: a whole window at most
