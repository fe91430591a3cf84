"""Server-side sessions: hashed ids, fixation, expiry on a test clock, revocation on
every event that changes an account's authority, CSRF secrets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from coopmail.config import load_settings
from coopmail.db import session_scope
from coopmail.staff import accounts, sessions
from coopmail.staff.errors import PermissionDenied, SessionEnd, SessionInvalid
from coopmail.staff.models import StaffSession
from coopmail.staff.roles import Role
from coopmail.staff.sessions import Authenticated, SessionPolicy
from tests.coopmail.staff.conftest import PASSWORD, SIGNER, Staff

POLICY = SessionPolicy.from_settings(load_settings(environ={}, cwd=Path("/")))
ANA = "ana@coop.example.org"


def check(staff: Staff, token: str) -> Authenticated:
    with staff.session() as session:
        return sessions.authenticate(session, token=token, policy=POLICY, now=staff.clock())


def refused(staff: Staff, token: str) -> SessionEnd:
    with pytest.raises(SessionInvalid) as caught:
        check(staff, token)
    return caught.value.reason


def use(staff: Staff, token: str) -> None:
    """What the web dependency does on each request."""
    found = check(staff, token)
    if found.touch_due(staff.clock()):
        with session_scope(staff.engine) as session:
            sessions.touch(session, session_id=found.session.id, now=staff.clock())


def test_the_defaults_are_eight_hours_idle_and_seven_days_in_all() -> None:
    assert POLICY.idle.total_seconds() == 8 * 3600
    assert POLICY.lifetime.total_seconds() == 7 * 24 * 3600
    custom = load_settings(
        environ={"COOPMAIL_SESSION_IDLE_TIMEOUT": "600", "COOPMAIL_SESSION_LIFETIME": "3600"},
        cwd=Path("/"),
    )
    assert SessionPolicy.from_settings(custom) == SessionPolicy(
        idle=POLICY.idle / 48, lifetime=POLICY.lifetime / 168
    )
    assert custom.masked()["session_idle_timeout"] == 600


def test_only_the_hash_of_the_id_is_stored(staff: Staff) -> None:
    staff.create(ANA)
    token = staff.login(ANA).token
    assert len(token) >= 43  # 256 bits, URL-safe base64
    with staff.session() as session:
        row = session.scalars(select(StaffSession)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.csrf_secret, row.ip, row.user_agent}
    assert check(staff, token).account.email == ANA


def test_every_login_gets_a_new_id_and_a_chosen_one_is_worthless(staff: Staff) -> None:
    staff.create(ANA)
    planted = "A" * 43  # what an attacker would set in the victim's browser
    assert refused(staff, planted) is SessionEnd.UNKNOWN
    first, second = staff.login(ANA).token, staff.login(ANA).token
    assert len({planted, first, second}) == 3
    assert refused(staff, planted) is SessionEnd.UNKNOWN
    assert check(staff, first).session.id != check(staff, second).session.id


def test_an_idle_session_ends_after_the_idle_timeout(staff: Staff) -> None:
    staff.create(ANA)
    token = staff.login(ANA).token
    staff.clock.advance(hours=7, minutes=59)
    use(staff, token)  # used: the idle clock starts again
    staff.clock.advance(hours=7, minutes=59)
    use(staff, token)
    staff.clock.advance(hours=8)
    assert refused(staff, token) is SessionEnd.IDLE


def test_a_used_session_still_ends_at_its_absolute_lifetime(staff: Staff) -> None:
    staff.create(ANA)
    token = staff.login(ANA).token
    for _ in range(7 * 24 - 1):
        staff.clock.advance(hours=1)
        use(staff, token)
    staff.clock.advance(minutes=59)
    use(staff, token)
    staff.clock.advance(minutes=1)
    assert refused(staff, token) is SessionEnd.EXPIRED


def test_sessions_are_touched_at_most_once_a_minute(staff: Staff) -> None:
    staff.create(ANA)
    token = staff.login(ANA).token
    staff.clock.advance(seconds=30)
    assert not check(staff, token).touch_due(staff.clock())
    staff.clock.advance(seconds=30)
    assert check(staff, token).touch_due(staff.clock())


def _logout(staff: Staff, token: str) -> None:
    with session_scope(staff.engine) as session:
        assert sessions.end_session(session, token=token, ip="192.0.2.10", now=staff.clock())


def _change_password(staff: Staff, token: str) -> None:
    actor = check(staff, token).actor("192.0.2.10")
    with session_scope(staff.engine) as session:
        accounts.change_password(
            session,
            actor=actor,
            current_password=PASSWORD,
            new_password="quinoa fields at dawn",
            now=staff.clock(),
        )


def _by_owner(action: Callable[..., object], **options: object) -> Callable[[Staff, str], None]:
    def run(staff: Staff, token: str) -> None:
        with session_scope(staff.engine) as session:
            action(
                session,
                actor=staff.actor("owner@coop.example.org"),
                reference=ANA,
                now=staff.clock(),
                **options,
            )

    return run


def _reset_with_link(staff: Staff, token: str) -> None:
    with session_scope(staff.engine) as session:
        mail = accounts.request_password_reset(
            session, email=ANA, ip=None, signer=SIGNER, now=staff.clock()
        )
    assert mail is not None
    with session_scope(staff.engine) as session:
        accounts.set_password_with_link(
            session,
            token=mail.url.rsplit("/", 1)[1],
            password="quinoa fields at dawn",
            signer=SIGNER,
            ip=None,
            now=staff.clock(),
        )


@pytest.mark.parametrize(
    "event",
    [
        _change_password,
        _by_owner(accounts.set_role, role=Role.VIEWER),
        _by_owner(accounts.disable_account),
        _by_owner(accounts.reset_account, signer=SIGNER),
        _by_owner(accounts.set_second_factor_required, required=True),
        _reset_with_link,
    ],
    ids=["password change", "role change", "disable", "reset", "2fa required", "reset link"],
)
def test_each_event_ends_every_session_of_the_account(
    staff: Staff, event: Callable[[Staff, str], None]
) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create(ANA)
    other = staff.login("owner@coop.example.org").token
    phone, laptop = staff.login(ANA).token, staff.login(ANA).token
    event(staff, laptop)
    assert refused(staff, phone) is SessionEnd.UNKNOWN
    assert refused(staff, laptop) is SessionEnd.UNKNOWN
    assert check(staff, other).account.email == "owner@coop.example.org"


def test_logout_ends_that_session_only(staff: Staff) -> None:
    staff.create(ANA)
    phone, laptop = staff.login(ANA).token, staff.login(ANA).token
    _logout(staff, laptop)
    assert refused(staff, laptop) is SessionEnd.UNKNOWN
    check(staff, phone)
    with session_scope(staff.engine) as session:
        assert not sessions.end_session(session, token=laptop, ip=None, now=staff.clock())


def test_each_session_has_its_own_csrf_secret(staff: Staff) -> None:
    staff.create(ANA)
    one, two = check(staff, staff.login(ANA).token), check(staff, staff.login(ANA).token)
    assert len(one.csrf_token) == 64 and one.csrf_token != two.csrf_token
    assert one.csrf_valid(one.csrf_token)
    assert not one.csrf_valid(two.csrf_token)
    assert not one.csrf_valid("")
    assert not one.csrf_valid("é" * 64)


def test_owners_see_and_revoke_anyones_sessions_others_only_their_own(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create(ANA)
    staff.create("ed@coop.example.org", Role.EDITOR)
    ana = check(staff, staff.login(ANA).token)
    staff.login(ANA)
    owner, editor = staff.actor("owner@coop.example.org"), staff.actor("ed@coop.example.org")
    with session_scope(staff.engine) as session:
        listed = sessions.list_sessions(
            session, actor=owner, account_id=ana.account.id, policy=POLICY, now=staff.clock()
        )
        assert len(listed) == 2 and all(row.user_agent == "pytest" for row in listed)
        with pytest.raises(PermissionDenied):
            sessions.list_sessions(
                session, actor=editor, account_id=ana.account.id, policy=POLICY, now=staff.clock()
            )
        with pytest.raises(PermissionDenied):
            sessions.revoke_session(
                session, actor=editor, session_id=ana.session.id, now=staff.clock()
            )
        own = ana.actor(None)
        assert (
            len(
                sessions.list_sessions(
                    session, actor=own, account_id=ana.account.id, policy=POLICY, now=staff.clock()
                )
            )
            == 2
        )
        assert sessions.revoke_session(
            session, actor=owner, session_id=ana.session.id, now=staff.clock()
        )
    with staff.session() as session:
        assert len(session.scalars(select(StaffSession)).all()) == 1


def test_ended_sessions_are_purged(staff: Staff) -> None:
    staff.create(ANA)
    staff.login(ANA)
    staff.clock.advance(hours=1)
    kept = staff.login(ANA).token
    staff.clock.advance(hours=7, minutes=30)
    with session_scope(staff.engine) as session:
        assert sessions.purge_sessions(session, policy=POLICY, now=staff.clock()) == 1
    check(staff, kept)
