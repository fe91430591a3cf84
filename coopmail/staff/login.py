"""Logging in: the password, then the second factor when the account has one, throttled
per account and per network in the database so every web process counts together.

Each attempt is counted before its password is checked, so a burst of parallel guesses
cannot slip past the limit; an attempt that turns out right is taken back from its
network's count and clears the account's. The password check (argon2id, tens of
milliseconds) runs outside any transaction: a flood of logins never holds the write
lock. The failure that fills an account's window is the one that warns its owner by mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from coopmail import throttle
from coopmail.db import session_scope
from coopmail.staff import audit
from coopmail.staff import second_factor as factors
from coopmail.staff.audit import StaffAction
from coopmail.staff.errors import (
    AccountDisabled,
    LoginFailed,
    LoginThrottled,
    SecondFactorFailed,
    SessionEnd,
    SessionInvalid,
)
from coopmail.staff.models import EMAIL_MAX, SessionStage, StaffAccount, StaffSession
from coopmail.staff.passwords import hash_password, needs_rehash, verify_password
from coopmail.staff.roles import Actor
from coopmail.staff.sessions import PENDING_LIFETIME, NewSession, start_session, token_hash

FAILURES_PER_ACCOUNT = throttle.Limit(name="staff-login-account", limit=5, seconds=15 * 60)
FAILURES_PER_NETWORK = throttle.Limit(name="staff-login-network", limit=20, seconds=15 * 60)


@dataclass(frozen=True, kw_only=True)
class LoginAlert:
    """Someone failed to log in to this account too often: tell the person."""

    email: str
    name: str
    language: str
    failures: int
    window_seconds: int
    ip: str | None
    at: datetime


AlertSink = Callable[[LoginAlert], None]


@dataclass(frozen=True, kw_only=True)
class LoggedIn:
    """A new session for the cookie. At the ``second_factor`` stage it only opens the
    code page; at ``enrol`` only the page that sets up a second factor."""

    token: str
    stage: SessionStage
    account_id: int
    language: str


def login(
    engine: Engine,
    *,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    on_alert: AlertSink,
) -> LoggedIn:
    """Check the password; a new session (never the browser's old one) or LoginFailed,
    LoginThrottled, AccountDisabled. ``on_alert`` is called (after commit) with the
    warning to mail when this failure fills the account's window."""
    key = email.strip().lower()[:EMAIL_MAX]
    network = throttle.network_key(ip) if ip else "unknown"
    stored: tuple[int, str | None] | None = None
    with session_scope(engine) as session:
        retry_after = _count_attempt(session, key, network, now)
        found = session.scalar(select(StaffAccount).where(StaffAccount.email == key))
        if found is not None:
            stored = (found.id, found.password_hash)
    if retry_after is not None:
        raise LoginThrottled(retry_after)

    right = verify_password(stored[1] if stored else None, password)

    alert = None
    result: LoggedIn | Exception
    with session_scope(engine) as session:
        account = session.get(StaffAccount, stored[0]) if stored is not None else None
        # A password changed while this one was being checked does not let it in.
        if not right or account is None or stored is None or account.password_hash != stored[1]:
            alert = _failed(session, key=key, account=account, ip=ip, now=now, action="password")
            result = LoginFailed()
        elif account.disabled:
            result = AccountDisabled(account.email)
            _record(
                session,
                account,
                ip=ip,
                now=now,
                action=StaffAction.LOGIN_FAILED,
                details={"reason": "disabled"},
            )
        else:
            if account.password_hash is not None and needs_rehash(account.password_hash):
                account.password_hash = hash_password(password)
            throttle.release(session, limit=FAILURES_PER_NETWORK, key=network, now=now)
            throttle.clear(session, limit=FAILURES_PER_ACCOUNT, key=key)
            result = _open(session, account, ip=ip, user_agent=user_agent, now=now)
    if alert is not None:
        on_alert(alert)
    if isinstance(result, Exception):
        raise result
    return result


def complete_second_factor(
    engine: Engine,
    *,
    token: str,
    code: str,
    ip: str | None,
    now: datetime,
    on_alert: AlertSink,
) -> LoggedIn:
    """The code page: a TOTP or recovery code turns the pending session into a new full
    one (a new id again), or SecondFactorFailed / LoginThrottled / SessionInvalid."""
    network = throttle.network_key(ip) if ip else "unknown"
    alert = None
    with session_scope(engine) as session:
        pending = _pending(session, token, now)
        account = session.get(StaffAccount, pending.account_id)
        assert account is not None  # the foreign key cascades
        retry_after = _count_attempt(session, account.email, network, now)
        result: LoggedIn | Exception
        if retry_after is not None:
            result = LoginThrottled(retry_after)
        else:
            how = factors.verify(session, account=account, code=code, now=now)
            if how is None:
                alert = _failed(
                    session, key=account.email, account=account, ip=ip, now=now, action="code"
                )
                result = SecondFactorFailed()
            else:
                throttle.release(session, limit=FAILURES_PER_NETWORK, key=network, now=now)
                throttle.clear(session, limit=FAILURES_PER_ACCOUNT, key=account.email)
                if how == "recovery_code":
                    _record(
                        session,
                        account,
                        ip=ip,
                        now=now,
                        action=StaffAction.RECOVERY_CODE_USED,
                        details={},
                    )
                session.delete(pending)
                new = start_session(
                    session,
                    account=account,
                    stage=SessionStage.ACTIVE,
                    ip=ip,
                    user_agent=pending.user_agent,
                    now=now,
                )
                result = _logged_in(session, account, new, ip=ip, now=now, how=how)
    if alert is not None:
        on_alert(alert)
    if isinstance(result, Exception):
        raise result
    return result


def _count_attempt(session: Session, key: str, network: str, now: datetime) -> int | None:
    """Count the attempt against both limits; the seconds to wait if either is full
    (and then neither keeps it)."""
    account = throttle.hit(session, limit=FAILURES_PER_ACCOUNT, key=key, now=now)
    if not account.allowed:
        return account.retry_after
    network_verdict = throttle.hit(session, limit=FAILURES_PER_NETWORK, key=network, now=now)
    if not network_verdict.allowed:
        throttle.release(session, limit=FAILURES_PER_ACCOUNT, key=key, now=now)
        return network_verdict.retry_after
    return None


def _failed(
    session: Session,
    *,
    key: str,
    account: StaffAccount | None,
    ip: str | None,
    now: datetime,
    action: str,
) -> LoginAlert | None:
    """Record a failure; the alert to send when it is the one that fills the window."""
    failures = throttle.peek(session, limit=FAILURES_PER_ACCOUNT, key=key, now=now).count
    kind = StaffAction.LOGIN_FAILED if action == "password" else StaffAction.SECOND_FACTOR_FAILED
    audit.record(
        session,
        actor=Actor.anonymous(label=key, ip=ip, account_id=account.id if account else None),
        action=kind,
        now=now,
        target_type="staff" if account is not None else None,
        target_id=account.id if account is not None else None,
        details={"failures": failures},
    )
    if account is None or account.disabled or failures != FAILURES_PER_ACCOUNT.limit:
        return None
    _record(
        session,
        account,
        ip=ip,
        now=now,
        action=StaffAction.LOGIN_THROTTLED,
        details={"failures": failures},
    )
    return LoginAlert(
        email=account.email,
        name=account.name,
        language=account.language,
        failures=failures,
        window_seconds=FAILURES_PER_ACCOUNT.seconds,
        ip=ip,
        at=now,
    )


def _open(
    session: Session,
    account: StaffAccount,
    *,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> LoggedIn:
    if account.totp_secret is not None:
        stage = SessionStage.SECOND_FACTOR
    elif account.second_factor_required:
        stage = SessionStage.ENROL
    else:
        stage = SessionStage.ACTIVE
    new = start_session(
        session, account=account, stage=stage, ip=ip, user_agent=user_agent, now=now
    )
    if stage is not SessionStage.ACTIVE:
        return LoggedIn(
            token=new.token, stage=stage, account_id=account.id, language=account.language
        )
    return _logged_in(session, account, new, ip=ip, now=now, how="password")


def _logged_in(
    session: Session,
    account: StaffAccount,
    new: NewSession,
    *,
    ip: str | None,
    now: datetime,
    how: str,
) -> LoggedIn:
    account.last_login_at = now
    _record(session, account, ip=ip, now=now, action=StaffAction.LOGIN, details={"with": how})
    return LoggedIn(
        token=new.token, stage=new.session.stage, account_id=account.id, language=account.language
    )


def _pending(session: Session, token: str, now: datetime) -> StaffSession:
    pending = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_hash(token))
    )
    if pending is None:
        raise SessionInvalid(SessionEnd.UNKNOWN)
    if pending.stage is not SessionStage.SECOND_FACTOR:
        raise SessionInvalid(SessionEnd.INCOMPLETE)
    if now >= pending.created_at + PENDING_LIFETIME:
        raise SessionInvalid(SessionEnd.EXPIRED)
    return pending


def _record(
    session: Session,
    account: StaffAccount,
    *,
    ip: str | None,
    now: datetime,
    action: StaffAction,
    details: dict[str, object],
) -> None:
    audit.record(
        session,
        actor=Actor(account_id=account.id, label=account.email, role=account.role, ip=ip),
        action=action,
        now=now,
        target_type="staff",
        target_id=account.id,
        details=details,
    )
