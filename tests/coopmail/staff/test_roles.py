"""The role -> permission table and who may give which role."""

from __future__ import annotations

import itertools

import pytest

from coopmail.staff.errors import LastOwner, PermissionDenied, RoleTooHigh
from coopmail.staff.roles import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    allows,
    check_grant,
    check_role_change,
    require,
)

P = Permission
EXPECTED = {
    Role.VIEWER: {P.READ},
    Role.EDITOR: {P.READ, P.COMPOSE, P.TEST_SEND},
    Role.ADMIN: {
        P.READ,
        P.COMPOSE,
        P.TEST_SEND,
        P.SEND,
        P.EXPORT_PERSONAL_DATA,
        P.MANAGE_LISTS,
        P.MANAGE_SUBSCRIBERS,
        P.IMPORT,
        P.MANAGE_SUPPRESSIONS,
        P.MANAGE_BOUNCES,
        P.MANAGE_APIKEYS,
        P.READ_AUDIT,
    },
    Role.OWNER: set(Permission),
}


def test_the_permission_table_is_the_issues() -> None:
    assert {role: set(permissions) for role, permissions in ROLE_PERMISSIONS.items()} == EXPECTED


def test_each_role_holds_everything_below_it() -> None:
    ordered = sorted(Role, key=lambda role: role.rank)
    assert ordered == [Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER]
    for lower, higher in itertools.pairwise(ordered):
        assert ROLE_PERMISSIONS[lower] < ROLE_PERMISSIONS[higher]


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.VIEWER, P.READ, True),
        (Role.VIEWER, P.EXPORT_PERSONAL_DATA, False),
        (Role.EDITOR, P.COMPOSE, True),
        (Role.EDITOR, P.TEST_SEND, True),
        (Role.EDITOR, P.SEND, False),
        (Role.ADMIN, P.SEND, True),
        (Role.ADMIN, P.MANAGE_APIKEYS, True),
        (Role.ADMIN, P.MANAGE_STAFF, False),
        (Role.ADMIN, P.MANAGE_SETTINGS, False),
        (Role.ADMIN, P.EXPORT_AUDIT, False),
        (Role.OWNER, P.MANAGE_STAFF, True),
        (Role.OWNER, P.EXPORT_AUDIT, True),
    ],
)
def test_require_follows_the_table(role: Role, permission: Permission, allowed: bool) -> None:
    actor = Actor(account_id=1, label="someone@example.org", role=role)
    assert allows(role, permission) is allowed
    if allowed:
        require(actor, permission)
    else:
        with pytest.raises(PermissionDenied) as caught:
            require(actor, permission)
        assert (caught.value.role, caught.value.permission) == (role.value, permission.value)


def test_the_system_may_do_anything_and_anonymous_nothing() -> None:
    for permission in Permission:
        require(Actor.system(), permission)
    stranger = Actor.anonymous(label="system", ip="192.0.2.1")  # a name is not authority
    assert not stranger.is_system
    with pytest.raises(PermissionDenied):
        require(stranger, Permission.READ)


def test_nobody_grants_a_role_above_their_own() -> None:
    admin = Actor(account_id=2, label="admin@example.org", role=Role.ADMIN)
    check_grant(admin, Role.ADMIN)
    with pytest.raises(RoleTooHigh) as caught:
        check_grant(admin, Role.OWNER)
    assert (caught.value.actor_role, caught.value.role) == ("admin", "owner")
    with pytest.raises(RoleTooHigh):  # nor changes an account above their own
        check_role_change(
            admin, email="o@example.org", current=Role.OWNER, new=Role.VIEWER, active_owners=3
        )


def test_the_last_owner_cannot_be_demoted() -> None:
    owner = Actor(account_id=1, label="o@example.org", role=Role.OWNER)
    with pytest.raises(LastOwner) as caught:
        check_role_change(
            owner, email="o@example.org", current=Role.OWNER, new=Role.ADMIN, active_owners=1
        )
    assert caught.value.email == "o@example.org"
    check_role_change(
        owner, email="o@example.org", current=Role.OWNER, new=Role.ADMIN, active_owners=2
    )
    check_role_change(
        owner, email="o@example.org", current=Role.OWNER, new=Role.OWNER, active_owners=1
    )
