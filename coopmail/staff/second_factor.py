"""The optional second factor: TOTP codes from an authenticator app (RFC 6238), and ten
single-use recovery codes for a lost phone.

A code is accepted for its 30-second step and the steps either side (clocks drift), and
only once: the last step used is kept, so a code seen over a shoulder cannot be replayed.
Recovery codes are stored as SHA-256 hashes (they are random, 50 bits each, so a slow
hash adds nothing). An owner may require the second factor of an account; it then cannot
be turned off until the owner lifts the requirement.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from coopmail.staff import audit
from coopmail.staff.audit import StaffAction
from coopmail.staff.errors import AccountNotFound, SecondFactorFailed, SecondFactorState
from coopmail.staff.models import RecoveryCode, SessionStage, StaffAccount, StaffSession
from coopmail.staff.roles import Actor, Permission, require
from coopmail.staff.sessions import NewSession, start_session

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 10
_DRIFT_STEPS = 1


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth://, for a QR code


@dataclass(frozen=True, kw_only=True)
class Enabled:
    recovery_codes: list[str]  # shown once
    session: NewSession | None  # a full session replacing an enrolment-stage one


def begin_enrolment(session: Session, *, actor: Actor, account_id: int, issuer: str) -> Enrolment:
    """A new secret for the person's own app; it counts once a code from it is confirmed."""
    account = _own_account(session, actor, account_id)
    if account.totp_secret is not None:
        raise SecondFactorState(account.email, "already_enabled")
    secret = pyotp.random_base32()
    account.totp_pending_secret = secret
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=issuer)
    return Enrolment(secret=secret, uri=uri)


def confirm_enrolment(
    session: Session,
    *,
    actor: Actor,
    account_id: int,
    code: str,
    now: datetime,
    current: StaffSession | None = None,
) -> Enabled:
    """Turn the second factor on with a code from the new secret; the recovery codes come
    back once. A ``current`` session at the enrolment stage is replaced by a full one."""
    account = _own_account(session, actor, account_id)
    if account.totp_pending_secret is None:
        raise SecondFactorState(account.email, "enrolment_not_started")
    step = _matching_step(account.totp_pending_secret, code, now, after=None)
    if step is None:
        raise SecondFactorFailed
    account.totp_secret, account.totp_pending_secret = account.totp_pending_secret, None
    account.totp_last_step = step
    codes = _new_recovery_codes(session, account)
    replacement = None
    if current is not None and current.stage is SessionStage.ENROL:
        session.delete(current)
        replacement = start_session(
            session,
            account=account,
            stage=SessionStage.ACTIVE,
            ip=actor.ip,
            user_agent=current.user_agent,
            now=now,
        )
        account.last_login_at = now
    audit.record(
        session,
        actor=actor,
        action=StaffAction.SECOND_FACTOR_ENABLED,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return Enabled(recovery_codes=codes, session=replacement)


def disable(session: Session, *, actor: Actor, account_id: int, now: datetime) -> None:
    """Turn the second factor off: one's own, or anyone's for an owner (a lost phone)."""
    account = _account_for(session, actor, account_id)
    if account.totp_secret is None:
        raise SecondFactorState(account.email, "not_enabled")
    if account.second_factor_required:
        raise SecondFactorState(account.email, "required_by_an_owner")
    account.totp_secret = account.totp_pending_secret = account.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    audit.record(
        session,
        actor=actor,
        action=StaffAction.SECOND_FACTOR_DISABLED,
        now=now,
        target_type="staff",
        target_id=account.id,
    )


def renew_recovery_codes(
    session: Session, *, actor: Actor, account_id: int, now: datetime
) -> list[str]:
    """Ten new codes for one's own account; the old ones stop working."""
    account = _own_account(session, actor, account_id)
    if account.totp_secret is None:
        raise SecondFactorState(account.email, "not_enabled")
    codes = _new_recovery_codes(session, account)
    audit.record(
        session,
        actor=actor,
        action=StaffAction.RECOVERY_CODES_RENEWED,
        now=now,
        target_type="staff",
        target_id=account.id,
    )
    return codes


def remaining_recovery_codes(session: Session, *, account_id: int) -> int:
    count = session.scalar(
        select(func.count()).where(
            RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None)
        )
    )
    return int(count or 0)


def verify(session: Session, *, account: StaffAccount, code: str, now: datetime) -> str | None:
    """How ``code`` proves the second factor ("totp" or "recovery_code"), using it up, or
    None when it does not."""
    if account.totp_secret is None:
        return None
    cleaned = "".join(code.split())
    step = _matching_step(account.totp_secret, cleaned, now, after=account.totp_last_step)
    if step is not None:
        account.totp_last_step = step
        session.flush()
        return "totp"
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash == _recovery_hash(cleaned),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return "recovery_code" if getattr(result, "rowcount", 0) == 1 else None


def _matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, account: StaffAccount) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(account_id=account.id, code_hash=_recovery_hash(raw)))
    session.flush()
    return codes


def _recovery_hash(code: str) -> str:
    normalised = code.replace("-", "").lower()
    return hashlib.sha256(normalised.encode("utf-8", "replace")).hexdigest()


def _own_account(session: Session, actor: Actor, account_id: int) -> StaffAccount:
    """Enrolling a device is the person's own act: not even an owner does it for them."""
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise AccountNotFound(str(account_id))
    if actor.account_id != account.id:
        require(actor, Permission.MANAGE_STAFF)  # explains the refusal to other staff
        raise SecondFactorState(account.email, "only_its_owner_can_set_it_up")
    return account


def _account_for(session: Session, actor: Actor, account_id: int) -> StaffAccount:
    account = session.get(StaffAccount, account_id)
    if account is None:
        raise AccountNotFound(str(account_id))
    if actor.account_id != account.id:
        require(actor, Permission.MANAGE_STAFF)
    return account
