"""The do-not-mail register: unsubscribes from everything, bounces, complaints, erasures."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from subscribers.addresses import address_hash, normalise_address
from subscribers.models import Suppression, SuppressionReason


def find_suppression(session: Session, *, email: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email_hash == address_hash(email)))


def suppressed_hashes(session: Session, *, hashes: Iterable[str]) -> set[str]:
    wanted = list(hashes)
    if not wanted:
        return set()
    return set(
        session.scalars(select(Suppression.email_hash).where(Suppression.email_hash.in_(wanted)))
    )


def suppress(
    session: Session,
    *,
    email: str,
    reason: SuppressionReason,
    note: str = "",
    keep_address: bool = True,
) -> Suppression:
    """Record (or update) a suppression; the first reason is kept, the note is appended.

    ``keep_address=False`` (erasure) forgets the address and replaces the note, which may
    quote it (a relay's "550 <address>: user unknown")."""
    email = normalise_address(email)
    existing = find_suppression(session, email=email)
    if existing is None:
        existing = Suppression(
            email_hash=address_hash(email),
            email=email if keep_address else None,
            reason=reason,
            note=note,
        )
        session.add(existing)
    elif not keep_address:
        existing.email = None
        existing.note = note
    elif note and note not in existing.note:
        existing.note = f"{existing.note}; {note}" if existing.note else note
    session.flush()
    return existing


def unsuppress(session: Session, *, email: str) -> bool:
    email = normalise_address(email)
    result = session.execute(
        delete(Suppression).where(Suppression.email_hash == address_hash(email))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_suppressions(
    session: Session, *, reason: SuppressionReason | None = None, limit: int = 100
) -> list[Suppression]:
    query = select(Suppression).order_by(Suppression.created_at.desc()).limit(limit)
    if reason is not None:
        query = query.where(Suppression.reason == reason)
    return list(session.scalars(query))
