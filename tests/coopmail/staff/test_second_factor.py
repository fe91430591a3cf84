"""TOTP second factor and recovery codes, through the login flow."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from coopmail.config import load_settings
from coopmail.db import session_scope
from coopmail.staff import accounts, second_factor, sessions
from coopmail.staff.errors import (
    LoginThrottled,
    SecondFactorFailed,
    SecondFactorState,
    SessionEnd,
    SessionInvalid,
)
from coopmail.staff.login import LoggedIn, complete_second_factor
from coopmail.staff.models import RecoveryCode, SessionStage, StaffSession
from coopmail.staff.roles import Actor, Role
from coopmail.staff.sessions import SessionPolicy
from tests.coopmail.staff.conftest import Staff

POLICY = SessionPolicy.from_settings(load_settings(environ={}, cwd=Path("/")))
ANA = "ana@coop.example.org"


def enrol(staff: Staff, email: str = ANA) -> tuple[str, list[str]]:
    actor = staff.actor(email)
    assert actor.account_id is not None
    with session_scope(staff.engine) as session:
        enrolment = second_factor.begin_enrolment(
            session, actor=actor, account_id=actor.account_id, issuer="Cooperatives Unit"
        )
    assert enrolment.uri.startswith("otpauth://totp/Cooperatives%20Unit:ana%40coop.example.org?")
    with session_scope(staff.engine) as session:
        enabled = second_factor.confirm_enrolment(
            session,
            actor=actor,
            account_id=actor.account_id,
            code=pyotp.TOTP(enrolment.secret).at(staff.clock()),
            now=staff.clock(),
        )
    return enrolment.secret, enabled.recovery_codes


def code_step(staff: Staff, token: str, code: str) -> LoggedIn:
    return complete_second_factor(
        staff.engine,
        token=token,
        code=code,
        ip="192.0.2.10",
        now=staff.clock(),
        on_alert=staff.alerts.append,
    )


def authenticate(staff: Staff, token: str, stage: SessionStage = SessionStage.ACTIVE) -> None:
    with staff.session() as session:
        sessions.authenticate(session, token=token, policy=POLICY, now=staff.clock(), stage=stage)


def test_a_login_with_totp_takes_two_steps_and_two_ids(staff: Staff) -> None:
    staff.create(ANA)
    secret, _ = enrol(staff)
    staff.clock.advance(seconds=60)
    pending = staff.login(ANA)
    assert pending.stage is SessionStage.SECOND_FACTOR
    with pytest.raises(SessionInvalid) as caught:
        authenticate(staff, pending.token)  # the password alone opens nothing
    assert caught.value.reason is SessionEnd.INCOMPLETE
    authenticate(staff, pending.token, SessionStage.SECOND_FACTOR)
    full = code_step(staff, pending.token, pyotp.TOTP(secret).at(staff.clock()))
    assert full.stage is SessionStage.ACTIVE and full.token != pending.token
    authenticate(staff, full.token)
    with pytest.raises(SessionInvalid):
        authenticate(staff, pending.token, SessionStage.SECOND_FACTOR)


def test_a_code_is_good_once_and_for_a_step_either_side(staff: Staff) -> None:
    staff.create(ANA)
    secret, _ = enrol(staff)
    staff.clock.advance(minutes=5)
    totp = pyotp.TOTP(secret)
    early = totp.at(staff.clock() - timedelta(seconds=30))
    code_step(staff, staff.login(ANA).token, early)  # the phone's clock is a step behind
    with pytest.raises(SecondFactorFailed):  # replayed: the step is used up
        code_step(staff, staff.login(ANA).token, early)
    with pytest.raises(SecondFactorFailed):
        code_step(staff, staff.login(ANA).token, "000000")
    staff.clock.advance(seconds=30)
    code_step(staff, staff.login(ANA).token, totp.at(staff.clock()))


def test_recovery_codes_are_hashed_and_single_use(staff: Staff) -> None:
    staff.create(ANA)
    _, codes = enrol(staff)
    assert len(codes) == 10 == len(set(codes))
    with staff.session() as session:
        stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert all(code.replace("-", "") not in "".join(stored) for code in codes)
    assert hashlib.sha256(codes[0].replace("-", "").encode()).hexdigest() in stored
    full = code_step(staff, staff.login(ANA).token, codes[0].upper())
    assert full.stage is SessionStage.ACTIVE
    with pytest.raises(SecondFactorFailed):
        code_step(staff, staff.login(ANA).token, codes[0])
    with staff.session() as session:
        assert second_factor.remaining_recovery_codes(session, account_id=full.account_id) == 9
        actor = staff.actor(ANA)
    with session_scope(staff.engine) as session:
        renewed = second_factor.renew_recovery_codes(
            session, actor=actor, account_id=full.account_id, now=staff.clock()
        )
    with pytest.raises(SecondFactorFailed):
        code_step(staff, staff.login(ANA).token, codes[1])
    code_step(staff, staff.login(ANA).token, renewed[0])


def test_wrong_codes_count_towards_the_accounts_throttle(staff: Staff) -> None:
    staff.create(ANA)
    enrol(staff)
    pending = staff.login(ANA).token
    for _ in range(4):
        with pytest.raises(SecondFactorFailed):
            code_step(staff, pending, "123456")
    with pytest.raises(SecondFactorFailed):
        code_step(staff, pending, "654321")
    assert [alert.email for alert in staff.alerts] == [ANA]
    with pytest.raises(LoginThrottled):
        code_step(staff, pending, "111111")


def test_a_pending_login_expires_after_fifteen_minutes(staff: Staff) -> None:
    staff.create(ANA)
    secret, _ = enrol(staff)
    pending = staff.login(ANA).token
    staff.clock.advance(minutes=15)
    with pytest.raises(SessionInvalid) as caught:
        code_step(staff, pending, pyotp.TOTP(secret).at(staff.clock()))
    assert caught.value.reason is SessionEnd.EXPIRED


def test_a_required_second_factor_is_set_up_at_the_next_login(staff: Staff) -> None:
    staff.create(ANA, Role.ADMIN)
    with session_scope(staff.engine) as session:
        accounts.set_second_factor_required(
            session, actor=Actor.system(), reference=ANA, required=True, now=staff.clock()
        )
    first = staff.login(ANA)
    assert first.stage is SessionStage.ENROL
    authenticate(staff, first.token, SessionStage.ENROL)
    with staff.session() as session:
        current = session.scalars(select(StaffSession)).one()
    actor = staff.actor(ANA)
    assert actor.account_id is not None
    with session_scope(staff.engine) as session:
        enrolment = second_factor.begin_enrolment(
            session, actor=actor, account_id=actor.account_id, issuer="coopmail"
        )
    with session_scope(staff.engine) as session:
        enabled = second_factor.confirm_enrolment(
            session,
            actor=actor,
            account_id=actor.account_id,
            code=pyotp.TOTP(enrolment.secret).at(staff.clock()),
            now=staff.clock(),
            current=session.get(StaffSession, current.id),
        )
    assert enabled.session is not None
    authenticate(staff, enabled.session.token)
    with pytest.raises(SessionInvalid):
        authenticate(staff, first.token, SessionStage.ENROL)
    with session_scope(staff.engine) as session, pytest.raises(SecondFactorState) as caught:
        second_factor.disable(session, actor=actor, account_id=actor.account_id, now=staff.clock())
    assert caught.value.state == "required_by_an_owner"


def test_only_the_person_sets_up_their_device_but_an_owner_can_remove_it(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create(ANA)
    enrol(staff)
    owner = staff.actor("owner@coop.example.org")
    ana = staff.actor(ANA)
    assert ana.account_id is not None
    with session_scope(staff.engine) as session, pytest.raises(SecondFactorState):
        second_factor.begin_enrolment(session, actor=owner, account_id=ana.account_id, issuer="x")
    with session_scope(staff.engine) as session:
        second_factor.disable(session, actor=owner, account_id=ana.account_id, now=staff.clock())
    assert staff.login(ANA).stage is SessionStage.ACTIVE
    with staff.session() as session:
        assert session.scalars(select(RecoveryCode)).all() == []
