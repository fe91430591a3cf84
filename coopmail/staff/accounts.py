"""Staff accounts: create, find and search, roles, disabling, profile, passwords, resets.

Every change is checked against the actor's role (:mod:`coopmail.staff.roles`), writes
one audit entry, and, when it changes what the account may do or how it proves who it
is, ends all of the account's sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coopmail import throttle
from coopmail.ids import row_id
from coopmail.staff import audit, sessions
from coopmail.staff.audit import StaffAction
from coopmail.staff.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccountField,
    LastOwner,
    LoginFailed,
)
from coopmail.staff.links import LinkSigner, issue_link, use_link, void_links
from coopmail.staff.models import EMAIL_MAX, NAME_MAX, LinkPurpose, StaffAccount
from coopmail.staff.passwords import check_password, hash_password, verify_password
from coopmail.staff.roles import Actor, Permission, Role, check_grant, check_role_change, require
from subscribers.addresses import has_unsafe_characters, normalise_address
from subscribers.errors import InvalidAddress
from subscribers.languages import LANGUAGES

PAGE_MAX = 200
RESET_REQUESTS = throttle.Limit(name="staff-reset-request", limit=3, seconds=3600)


@dataclass(frozen=True, kw_only=True)
class AccountPage:
    accounts: list[StaffAccount]
    next_after: str | None  # pass as ``after`` for the next page; None: the last page


@dataclass(frozen=True, kw_only=True)
class ResetMail:
    """What the login page mails to someone who asked for a reset link."""

    email: str
    name: str
    language: str
    url: str


def create_account(
    session: Session,
    *,
    actor: Actor,
    email: str,
    role: Role,
    now: datetime,
    name: str = "",
    language: str = "en",
    password: str | None = None,
) -> StaffAccount:
    """A new account; without a password, give its owner a first-login link
    (:func:`invite`)."""
    require(actor, Permission.MANAGE_STAFF)
    check_grant(actor, role)
    email = _email(email)
    name = _name(name)
    language = _language(language)
    if password is not None:
        check_password(password, email=email, name=name)
    if session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)) is not None:
        raise AccountExists(email)
    account = StaffAccount(
        email=email,
        name=name,
        role=role,
        language=language,
        password_hash=hash_password(password) if password is not None else None,
        password_changed_at=now if password is not None else None,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:  # a concurrent create took the address
        raise AccountExists(email) from None
    audit.record(
        session,
        actor=actor,
        action=StaffAction.ACCOUNT_CREATED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"email": email, "role": role.value, "password": password is not None},
    )
    return account


def find_account(session: Session, *, reference: str) -> StaffAccount:
    """The account with this address (any case) or id."""
    reference = reference.strip()
    condition = StaffAccount.email == reference.lower()
    if (account_id := row_id(reference)) is not None:
        condition = or_(condition, StaffAccount.id == account_id)
    account = session.scalar(select(StaffAccount).where(condition))
    if account is None:
        raise AccountNotFound(reference)
    return account


def search_accounts(
    session: Session,
    *,
    actor: Actor,
    text: str | None = None,
    role: Role | None = None,
    disabled: bool | None = None,
    after: str | None = None,
    limit: int = 50,
) -> AccountPage:
    """Accounts by address, ``limit`` at a time; ``text`` matches address or name."""
    require(actor, Permission.MANAGE_STAFF)
    limit = max(1, min(limit, PAGE_MAX))
    statement = select(StaffAccount)
    if text:
        pattern = (
            "%" + text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        statement = statement.where(
            or_(
                StaffAccount.email.like(pattern, escape="\\"),
                func.lower(StaffAccount.name).like(pattern, escape="\\"),
            )
        )
    if role is not None:
        statement = statement.where(StaffAccount.role == role)
    if disabled is not None:
        statement = statement.where(
            StaffAccount.disabled_at.is_not(None)
            if disabled
            else StaffAccount.disabled_at.is_(None)
        )
    if after is not None:
        statement = statement.where(StaffAccount.email > after)
    rows = list(session.scalars(statement.order_by(StaffAccount.email).limit(limit + 1)))
    page = rows[:limit]
    return AccountPage(accounts=page, next_after=page[-1].email if len(rows) > limit else None)


def active_owners(session: Session, *, lock: bool = False) -> int:
    """How many enabled owners there are; ``lock`` holds their rows until commit on
    PostgreSQL, so two owners demoting each other at once cannot leave none."""
    statement = select(StaffAccount.id).where(
        StaffAccount.role == Role.OWNER, StaffAccount.disabled_at.is_(None)
    )
    if lock:
        statement = statement.with_for_update()
    return len(list(session.scalars(statement)))


def set_role(
    session: Session, *, actor: Actor, reference: str, role: Role, now: datetime
) -> StaffAccount:
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_role_change(
        actor,
        email=account.email,
        current=account.role,
        new=role,
        active_owners=active_owners(session, lock=True) if not account.disabled else 2,
    )
    if account.role is role:
        return account
    previous, account.role = account.role, role
    sessions.revoke_all(session, account_id=account.id)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.ROLE_CHANGED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"from": previous.value, "to": role.value},
    )
    return account


def disable_account(
    session: Session, *, actor: Actor, reference: str, now: datetime
) -> StaffAccount:
    """The account can no longer log in, and its sessions end now."""
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_grant(actor, account.role)
    if account.disabled:
        return account
    if account.role is Role.OWNER and active_owners(session, lock=True) <= 1:
        raise LastOwner(account.email)
    account.disabled_at = now
    sessions.revoke_all(session, account_id=account.id)
    void_links(session, account_id=account.id, now=now)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.DISABLED,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return account


def enable_account(
    session: Session, *, actor: Actor, reference: str, now: datetime
) -> StaffAccount:
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_grant(actor, account.role)
    if not account.disabled:
        return account
    account.disabled_at = None
    audit.record(
        session,
        actor=actor,
        action=StaffAction.ENABLED,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return account


def update_profile(
    session: Session,
    *,
    actor: Actor,
    reference: str,
    now: datetime,
    name: str | None = None,
    language: str | None = None,
) -> StaffAccount:
    """Name and language: one's own, or anyone's for an owner."""
    account = find_account(session, reference=reference)
    if actor.account_id != account.id:
        require(actor, Permission.MANAGE_STAFF)
    changes = {}
    if name is not None and _name(name) != account.name:
        account.name = changes["name"] = _name(name)
    if language is not None and _language(language) != account.language:
        account.language = changes["language"] = _language(language)
    if changes:
        audit.record(
            session,
            actor=actor,
            action=StaffAction.PROFILE_CHANGED,
            now=now,
            target_type="staff",
            target_id=account.id,
            details=changes,
        )
    return account


def set_second_factor_required(
    session: Session, *, actor: Actor, reference: str, required: bool, now: datetime
) -> StaffAccount:
    """An owner's rule for one account. Requiring it of an account without one ends its
    sessions: the next login goes through setting it up."""
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_grant(actor, account.role)
    if account.second_factor_required is required:
        return account
    account.second_factor_required = required
    if required and account.totp_secret is None:
        sessions.revoke_all(session, account_id=account.id)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.SECOND_FACTOR_REQUIRED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"required": required},
    )
    return account


def invite(
    session: Session, *, actor: Actor, reference: str, signer: LinkSigner, now: datetime
) -> str:
    """A first-login link (to choose a password) for an account, valid for an hour."""
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_grant(actor, account.role)
    url = issue_link(session, signer=signer, account=account, purpose=LinkPurpose.INVITE, now=now)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.LINK_ISSUED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"purpose": LinkPurpose.INVITE.value},
    )
    return url


def reset_account(
    session: Session, *, actor: Actor, reference: str, signer: LinkSigner, now: datetime
) -> str:
    """For a forgotten or exposed password: the password stops working, every session
    ends, and the returned link (an hour, once) sets a new one."""
    require(actor, Permission.MANAGE_STAFF)
    account = find_account(session, reference=reference)
    check_grant(actor, account.role)
    account.password_hash = None
    account.password_changed_at = now
    sessions.revoke_all(session, account_id=account.id)
    url = issue_link(session, signer=signer, account=account, purpose=LinkPurpose.RESET, now=now)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.RESET,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return url


def request_password_reset(
    session: Session, *, email: str, ip: str | None, signer: LinkSigner, now: datetime
) -> ResetMail | None:
    """The "forgot your password" form: a link to mail, or None (unknown address,
    disabled account, too many requests). The page says the same thing either way, and
    the current password keeps working until the link is used."""
    try:
        key = _email(email)
    except InvalidAccountField:
        return None
    if not throttle.hit(session, limit=RESET_REQUESTS, key=key, now=now).allowed:
        return None
    account = session.scalar(select(StaffAccount).where(StaffAccount.email == key))
    if account is None or account.disabled:
        return None
    url = issue_link(session, signer=signer, account=account, purpose=LinkPurpose.RESET, now=now)
    audit.record(
        session,
        actor=Actor.anonymous(label=key, ip=ip, account_id=account.id),
        action=StaffAction.LINK_ISSUED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"purpose": LinkPurpose.RESET.value, "requested": True},
    )
    return ResetMail(email=account.email, name=account.name, language=account.language, url=url)


def set_password_with_link(
    session: Session,
    *,
    token: str,
    password: str,
    signer: LinkSigner,
    ip: str | None,
    now: datetime,
) -> StaffAccount:
    """The page a reset or first-login link opens: the new password is set, the link
    used up, every session of the account ended. Log in afterwards."""
    _, account = use_link(session, signer=signer, token=token, now=now)
    check_password(password, email=account.email, name=account.name)
    _store_password(session, account, password, now)
    audit.record(
        session,
        actor=Actor(account_id=account.id, label=account.email, role=account.role, ip=ip),
        action=StaffAction.PASSWORD_CHANGED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"by": "link"},
    )
    return account


def change_password(
    session: Session, *, actor: Actor, current_password: str, new_password: str, now: datetime
) -> StaffAccount:
    """One's own password, knowing the current one. Every session ends, the one in use
    too: start a new one for the person (:func:`sessions.start_session`) if they stay."""
    if actor.account_id is None:
        raise AccountNotFound(actor.label)
    account = session.get(StaffAccount, actor.account_id)
    if account is None:
        raise AccountNotFound(actor.label)
    if not verify_password(account.password_hash, current_password):
        raise LoginFailed
    check_password(new_password, email=account.email, name=account.name)
    _store_password(session, account, new_password, now)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.PASSWORD_CHANGED,
        now=now,
        target_type="staff",
        target_id=account.id,
        details={"by": "self"},
    )
    return account


def _store_password(session: Session, account: StaffAccount, password: str, now: datetime) -> None:
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    sessions.revoke_all(session, account_id=account.id)
    void_links(session, account_id=account.id, now=now)
    session.flush()


def _email(value: str) -> str:
    try:
        email = normalise_address(value)
    except InvalidAddress as error:
        raise InvalidAccountField("email", value[:EMAIL_MAX], str(error)) from None
    return email.lower()


def _name(value: str) -> str:
    value = value.strip()
    if len(value) > NAME_MAX or has_unsafe_characters(value):
        raise InvalidAccountField(
            "name", value[:NAME_MAX], f"must be at most {NAME_MAX} characters on one line"
        )
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise InvalidAccountField("language", value[:8], f"must be one of {', '.join(LANGUAGES)}")
    return value
