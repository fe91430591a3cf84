"""Accounts: creation rules, roles and owners, disabling, search; each change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coopmail.db import session_scope
from coopmail.staff import accounts
from coopmail.staff.audit import StaffAction
from coopmail.staff.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccountField,
    LastOwner,
    PermissionDenied,
    RoleTooHigh,
    WeakPassword,
)
from coopmail.staff.models import AuditEntry, StaffAccount
from coopmail.staff.roles import Actor, Role, check_grant
from tests.coopmail.staff.conftest import Staff


def audit_actions(staff: Staff) -> list[str]:
    with staff.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_addresses_are_unique_whatever_their_case(staff: Staff) -> None:
    created = staff.create("Ana.Quispe@Coop.Example.org", name="Ana Quispe", language="es")
    assert created.email == "ana.quispe@coop.example.org"
    with pytest.raises(AccountExists) as caught:
        staff.create("ana.quispe@coop.example.org")
    assert caught.value.email == "ana.quispe@coop.example.org"
    with staff.session() as session:
        found = accounts.find_account(session, reference="ANA.QUISPE@coop.example.org")
        assert found.id == created.id and found.language == "es"
        assert accounts.find_account(session, reference=str(created.id)).id == created.id
        with pytest.raises(AccountNotFound):
            accounts.find_account(session, reference="nobody@example.org")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"language": "de"}, "language"),
        ({"name": "Ana\nBcc: x@example.org"}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_fields_are_refused_by_name(staff: Staff, fields: dict[str, str], field: str) -> None:
    values = {"email": "ana@coop.example.org", **fields}
    with pytest.raises(InvalidAccountField) as caught:
        staff.create(values.pop("email"), **values)
    assert caught.value.field == field


def test_a_weak_password_creates_nothing(staff: Staff) -> None:
    with pytest.raises(WeakPassword):
        staff.create("ana@coop.example.org", password="password2024")
    with staff.session() as session:
        assert session.scalars(select(StaffAccount)).all() == []
    assert audit_actions(staff) == []


def test_only_owners_manage_staff_and_never_above_their_role(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create("admin@coop.example.org", Role.ADMIN)
    with session_scope(staff.engine) as session:
        with pytest.raises(PermissionDenied):
            accounts.create_account(
                session,
                actor=staff.actor("admin@coop.example.org"),
                email="new@coop.example.org",
                role=Role.VIEWER,
                now=staff.clock(),
            )
        accounts.create_account(
            session,
            actor=staff.actor("owner@coop.example.org"),
            email="new@coop.example.org",
            role=Role.OWNER,
            now=staff.clock(),
        )
    with pytest.raises(RoleTooHigh):
        check_grant(staff.actor("admin@coop.example.org"), Role.OWNER)


def test_the_last_active_owner_is_kept(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    owner = staff.actor("owner@coop.example.org")
    with session_scope(staff.engine) as session:
        with pytest.raises(LastOwner):
            accounts.set_role(
                session, actor=owner, reference=owner.label, role=Role.ADMIN, now=staff.clock()
            )
        with pytest.raises(LastOwner):
            accounts.disable_account(
                session, actor=Actor.system(), reference=owner.label, now=staff.clock()
            )
    staff.create("second@coop.example.org", Role.OWNER)
    with session_scope(staff.engine) as session:
        accounts.disable_account(
            session, actor=owner, reference="second@coop.example.org", now=staff.clock()
        )
    with session_scope(staff.engine) as session:  # a disabled owner does not count
        with pytest.raises(LastOwner):
            accounts.set_role(
                session, actor=owner, reference=owner.label, role=Role.VIEWER, now=staff.clock()
            )
        accounts.enable_account(
            session, actor=owner, reference="second@coop.example.org", now=staff.clock()
        )
    with session_scope(staff.engine) as session:
        changed = accounts.set_role(
            session, actor=owner, reference=owner.label, role=Role.VIEWER, now=staff.clock()
        )
        assert changed.role is Role.VIEWER


def test_every_change_is_in_the_audit_log_with_its_actor(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create("ed@coop.example.org", Role.EDITOR)
    owner = staff.actor("owner@coop.example.org", ip="198.51.100.4")
    now = staff.clock()
    with session_scope(staff.engine) as session:
        ref = "ed@coop.example.org"
        accounts.set_role(session, actor=owner, reference=ref, role=Role.ADMIN, now=now)
        accounts.update_profile(session, actor=owner, reference=ref, name="Ed", now=now)
        accounts.set_second_factor_required(
            session, actor=owner, reference=ref, required=True, now=now
        )
        accounts.disable_account(session, actor=owner, reference=ref, now=now)
        accounts.enable_account(session, actor=owner, reference=ref, now=now)
    with staff.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [entry.action for entry in entries] == [
        StaffAction.ACCOUNT_CREATED,
        StaffAction.ACCOUNT_CREATED,
        StaffAction.ROLE_CHANGED,
        StaffAction.PROFILE_CHANGED,
        StaffAction.SECOND_FACTOR_REQUIRED,
        StaffAction.DISABLED,
        StaffAction.ENABLED,
    ]
    assert [entry.actor for entry in entries[:2]] == ["system", "system"]
    changed = entries[2]
    assert (changed.actor, changed.actor_id, changed.ip) == (
        "owner@coop.example.org",
        owner.account_id,
        "198.51.100.4",
    )
    assert changed.details == {"from": "editor", "to": "admin"}
    assert changed.target_type == "staff" and changed.target_id == entries[1].target_id


def test_search_filters_and_pages_by_address(staff: Staff) -> None:
    for number in range(7):
        staff.create(
            f"p{number}@coop.example.org", Role.VIEWER, password=None, name=f"Person {number}"
        )
    staff.create("lucia@andes.example.org", Role.EDITOR, password=None, name="Lucía Mamani")
    system = Actor.system()
    with staff.session() as session:
        seen: list[str] = []
        after = None
        while True:
            page = accounts.search_accounts(session, actor=system, after=after, limit=3)
            seen += [account.email for account in page.accounts]
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == sorted(seen) and len(seen) == 8
        by_name = accounts.search_accounts(session, actor=system, text="MAMANI")
        assert [a.email for a in by_name.accounts] == ["lucia@andes.example.org"]
        editors = accounts.search_accounts(session, actor=system, role=Role.EDITOR)
        assert [a.email for a in editors.accounts] == ["lucia@andes.example.org"]
        assert accounts.search_accounts(session, actor=system, text="%").accounts == []
        assert accounts.search_accounts(session, actor=system, disabled=True).accounts == []
