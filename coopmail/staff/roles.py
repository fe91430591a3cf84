"""Roles, the permissions each carries, and who may give which role to whom.

The table below is the whole of the rules: a route of the admin declares one permission
and the web layer calls :func:`require`; the use cases call it too, so a rule holds
whether the CLI, the API or a page asks.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from coopmail.staff.errors import LastOwner, PermissionDenied, RoleTooHigh


class Role(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3, Role.OWNER: 4}


class Permission(enum.StrEnum):
    READ = "read"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    COMPOSE = "compose"
    TEST_SEND = "test_send"
    SEND = "send"  # to a list, now or on a schedule
    MANAGE_LISTS = "manage_lists"
    MANAGE_SUBSCRIBERS = "manage_subscribers"
    IMPORT = "import"
    MANAGE_SUPPRESSIONS = "manage_suppressions"
    MANAGE_BOUNCES = "manage_bounces"
    MANAGE_APIKEYS = "manage_apikeys"
    MANAGE_STAFF = "manage_staff"
    MANAGE_SETTINGS = "manage_settings"
    READ_AUDIT = "read_audit"
    EXPORT_AUDIT = "export_audit"


_VIEWER = frozenset({Permission.READ})
_EDITOR = _VIEWER | {Permission.COMPOSE, Permission.TEST_SEND}
_ADMIN = _EDITOR | {
    Permission.SEND,
    Permission.EXPORT_PERSONAL_DATA,
    Permission.MANAGE_LISTS,
    Permission.MANAGE_SUBSCRIBERS,
    Permission.IMPORT,
    Permission.MANAGE_SUPPRESSIONS,
    Permission.MANAGE_BOUNCES,
    Permission.MANAGE_APIKEYS,
    Permission.READ_AUDIT,
}
_OWNER = _ADMIN | {Permission.MANAGE_STAFF, Permission.MANAGE_SETTINGS, Permission.EXPORT_AUDIT}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

SYSTEM_LABEL = "system"


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who is acting, with what authority, from where: what every use case is told and
    what the audit log records. The CLI acts as the system, above every role."""

    account_id: int | None
    label: str  # the account's address at the time, "system", or the address tried
    role: Role | None  # None: someone not logged in (a failed login, a reset request)
    ip: str | None = None
    is_system: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls(account_id=None, label=SYSTEM_LABEL, role=Role.OWNER, is_system=True)

    @classmethod
    def anonymous(cls, *, label: str, ip: str | None, account_id: int | None = None) -> Actor:
        return cls(account_id=account_id, label=label, role=None, ip=ip)


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def require(actor: Actor, permission: Permission) -> None:
    """PermissionDenied unless ``actor`` may ``permission``: the check every admin route
    and every use case makes."""
    if actor.is_system:
        return
    if actor.role is None or not allows(actor.role, permission):
        role = actor.role.value if actor.role is not None else "anonymous"
        raise PermissionDenied(role, permission.value)


def check_grant(actor: Actor, role: Role) -> None:
    """RoleTooHigh when ``actor`` would give a role above their own (whether they may
    manage staff at all is :func:`require`'s question, asked first)."""
    if not actor.is_system and actor.role is not None and role.rank > actor.role.rank:
        raise RoleTooHigh(actor.role.value, role.value)


def check_role_change(
    actor: Actor, *, email: str, current: Role, new: Role, active_owners: int
) -> None:
    """Whether ``actor`` may move the account ``email`` from ``current`` to ``new``:
    never above the actor's own role, never for an account above it, and never leaving
    no active owner (``active_owners`` counts this account when it is one)."""
    check_grant(actor, new)
    if not actor.is_system and actor.role is not None and current.rank > actor.role.rank:
        raise RoleTooHigh(actor.role.value, current.value)
    if current is Role.OWNER and new is not Role.OWNER and active_owners <= 1:
        raise LastOwner(email)
