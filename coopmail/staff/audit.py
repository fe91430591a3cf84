"""The audit log: one row per staff action, login and failed login; read with filters,
page by page, or exported as CSV for the owners.

Entries are only added. The details hold ids and changed values, never a subscriber's
address or a secret, so the log can be kept for as long as the unit needs it.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coopmail.staff.models import EMAIL_MAX, IP_MAX, AuditEntry
from coopmail.staff.roles import Actor, Permission, require
from subscribers.spreadsheet import safe_cell

PAGE_MAX = 500
_EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip",
    "details",
)


class StaffAction(enum.StrEnum):
    """What the staff use cases record; other use cases add their own action names."""

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    SECOND_FACTOR_FAILED = "login.second_factor_failed"
    LOGOUT = "logout"
    ACCOUNT_CREATED = "staff.created"
    ROLE_CHANGED = "staff.role_changed"
    PROFILE_CHANGED = "staff.profile_changed"
    DISABLED = "staff.disabled"
    ENABLED = "staff.enabled"
    RESET = "staff.reset"
    LINK_ISSUED = "staff.link_issued"
    PASSWORD_CHANGED = "staff.password_changed"  # noqa: S105 - an action name
    SECOND_FACTOR_REQUIRED = "staff.second_factor_required"
    SECOND_FACTOR_ENABLED = "staff.second_factor_enabled"
    SECOND_FACTOR_DISABLED = "staff.second_factor_disabled"
    RECOVERY_CODES_RENEWED = "staff.recovery_codes_renewed"
    RECOVERY_CODE_USED = "staff.recovery_code_used"
    SESSION_REVOKED = "staff.session_revoked"
    SESSIONS_REVOKED = "staff.sessions_revoked"
    AUDIT_EXPORTED = "audit.exported"


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    target_type: str | None = None,
    target_id: int | str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry, in the caller's transaction: the action and its record stand or
    fall together."""
    entry = AuditEntry(
        at=now,
        actor_id=actor.account_id,
        actor=actor.label[:EMAIL_MAX],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=dict(details or {}),
        ip=actor.ip[:IP_MAX] if actor.ip else None,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """Every field narrows the search; all None reads the whole log. ``action`` ending in
    a dot is a prefix (``staff.`` for every account change)."""

    actor_id: int | None = None
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    ip: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True, kw_only=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # pass as ``before`` for the next (older) page; None: the last


def query_audit(
    session: Session,
    *,
    actor: Actor,
    filters: AuditFilter = AuditFilter(),  # frozen, so one shared default is safe
    before: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """The newest entries first, ``limit`` at a time; ``before`` is the previous page's
    ``next_before``. Keyset pagination: page 1,000 costs what page 1 does."""
    require(actor, Permission.READ_AUDIT)
    limit = max(1, min(limit, PAGE_MAX))
    statement = _filtered(filters)
    if before is not None:
        statement = statement.where(AuditEntry.id < before)
    rows = list(session.scalars(statement.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    entries = rows[:limit]
    return AuditPage(entries=entries, next_before=entries[-1].id if more else None)


def export_audit_csv(
    session: Session, *, actor: Actor, filters: AuditFilter, now: datetime
) -> Iterator[str]:
    """The matching entries as CSV text, oldest first, a chunk of lines at a time (for a
    streamed download). The export itself is recorded, in ``session``: commit it before
    streaming, so the record stands even when the download is cut short."""
    require(actor, Permission.EXPORT_AUDIT)
    record(
        session,
        actor=actor,
        action=StaffAction.AUDIT_EXPORTED,
        now=now,
        details={key: str(value) for key, value in vars(filters).items() if value is not None},
    )
    return _csv_chunks(session, filters)


def _csv_chunks(session: Session, filters: AuditFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    after = 0
    while True:
        batch = list(
            session.scalars(
                _filtered(filters)
                .where(AuditEntry.id > after)
                .order_by(AuditEntry.id)
                .limit(_EXPORT_BATCH)
            )
        )
        for entry in batch:
            writer.writerow([neutralise(value) for value in csv_row(entry)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < _EXPORT_BATCH:
            return
        after = batch[-1].id


def csv_row(entry: AuditEntry) -> list[str]:
    return [
        str(entry.id),
        entry.at.isoformat(),
        entry.actor,
        "" if entry.actor_id is None else str(entry.actor_id),
        entry.action,
        entry.target_type or "",
        entry.target_id or "",
        entry.ip or "",
        json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
    ]


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that starts like a formula is prefixed
    with an apostrophe (OWASP's advice for CSV injection), by the same rule as every CSV
    coopmail writes (subscribers.spreadsheet)."""
    return str(safe_cell(cell))


def _filtered(filters: AuditFilter) -> Select[AuditEntry]:
    statement = select(AuditEntry)
    if filters.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == filters.actor_id)
    if filters.actor is not None:
        statement = statement.where(AuditEntry.actor == filters.actor.strip().lower())
    if filters.action is not None:
        if filters.action.endswith("."):
            pattern = filters.action.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            statement = statement.where(AuditEntry.action.like(pattern + "%", escape="\\"))
        else:
            statement = statement.where(AuditEntry.action == filters.action)
    if filters.target_type is not None:
        statement = statement.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id is not None:
        statement = statement.where(AuditEntry.target_id == filters.target_id)
    if filters.ip is not None:
        statement = statement.where(AuditEntry.ip == filters.ip)
    if filters.since is not None:
        statement = statement.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        statement = statement.where(AuditEntry.at < filters.until)
    return statement
