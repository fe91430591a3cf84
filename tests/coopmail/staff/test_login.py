"""Logging in: failures, throttles per account and per network shared by processes, the
warning mail, rehashing, disabled accounts, and what the audit log keeps."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update

from campaigns.compose import built_in_unit
from coopmail.config import load_settings
from coopmail.db import make_engine
from coopmail.staff import passwords
from coopmail.staff.errors import AccountDisabled, LoginFailed, LoginThrottled
from coopmail.staff.login import FAILURES_PER_ACCOUNT, LoginAlert, login
from coopmail.staff.models import AuditEntry, StaffAccount
from coopmail.staff.roles import Role
from coopmail.web.staff_mail import StaffMails
from tests.conftest import Clock
from tests.coopmail.staff.conftest import PASSWORD, SECRET_KEY, Staff
from tests.smtp_server import RecordingSmtpServer

ANA = "ana@coop.example.org"


def fail(staff: Staff, email: str = ANA, *, ip: str = "192.0.2.10") -> type[Exception]:
    with pytest.raises((LoginFailed, LoginThrottled)) as caught:
        staff.login(email, "not the right password", ip=ip)
    return caught.type


def test_a_wrong_password_and_an_unknown_address_fail_alike(staff: Staff) -> None:
    staff.create(ANA)
    with pytest.raises(LoginFailed) as wrong:
        staff.login(ANA, "not the right password")
    with pytest.raises(LoginFailed) as unknown:
        staff.login("nobody@coop.example.org")
    assert str(wrong.value) == str(unknown.value)
    assert staff.login(" ANA@coop.example.org ").stage == "active"


def test_five_failures_pause_the_account_whatever_the_network(staff: Staff) -> None:
    staff.create(ANA)
    for number in range(FAILURES_PER_ACCOUNT.limit):
        assert fail(staff, ip=f"198.51.100.{number}") is LoginFailed
    with pytest.raises(LoginThrottled) as caught:
        staff.login(ANA, ip="203.0.113.5")  # even the right password waits
    assert 0 < caught.value.retry_after <= FAILURES_PER_ACCOUNT.seconds + 15
    staff.clock.advance(seconds=caught.value.retry_after)
    assert staff.login(ANA).stage == "active"


def test_a_success_clears_the_accounts_failures(staff: Staff) -> None:
    staff.create(ANA)
    for _ in range(4):
        fail(staff)
    staff.login(ANA)
    for _ in range(4):
        assert fail(staff) is LoginFailed


def test_one_network_is_paused_after_twenty_failures_across_accounts(staff: Staff) -> None:
    staff.create(ANA)
    for number in range(20):
        assert (
            fail(staff, f"guess{number}@coop.example.org", ip=f"2001:db8:7:7::{number + 1:x}")
            is LoginFailed
        )
    assert fail(staff, ip="2001:db8:7:7:ffff::1") is LoginThrottled  # the same /64
    assert staff.login(ANA, ip="2001:db8:7:8::1")  # the next network is someone else


def test_successful_logins_do_not_use_up_the_networks_allowance(staff: Staff) -> None:
    """A whole office behind one address logs in on Monday morning."""
    for number in range(25):
        staff.create(f"p{number}@coop.example.org", Role.VIEWER)
        staff.login(f"p{number}@coop.example.org", ip="192.0.2.99")
    assert fail(staff, "p0@coop.example.org", ip="192.0.2.99") is LoginFailed


def test_two_processes_share_the_throttle(staff: Staff, database_url: str) -> None:
    staff.create(ANA)
    other = Staff(engine=make_engine(database_url), clock=staff.clock)
    try:
        for number in range(FAILURES_PER_ACCOUNT.limit):
            assert fail(staff if number % 2 else other) is LoginFailed
        assert fail(staff) is LoginThrottled
        assert fail(other) is LoginThrottled
    finally:
        other.engine.dispose()


def test_the_failure_that_pauses_the_account_warns_its_owner_once(staff: Staff) -> None:
    staff.create(ANA, name="Ana Quispe", language="es")
    for _ in range(FAILURES_PER_ACCOUNT.limit - 1):
        fail(staff)
    assert staff.alerts == []
    fail(staff, ip="203.0.113.77")
    assert staff.alerts == [
        LoginAlert(
            email=ANA,
            name="Ana Quispe",
            language="es",
            failures=5,
            window_seconds=900,
            ip="203.0.113.77",
            at=staff.clock(),
        )
    ]
    for _ in range(3):
        fail(staff)
    assert len(staff.alerts) == 1
    fail(staff, "nobody@coop.example.org")  # no account: nobody to tell
    for _ in range(5):
        fail(staff, "nobody@coop.example.org", ip="198.51.100.1")
    assert len(staff.alerts) == 1


def test_the_warning_is_mailed_in_the_accounts_language(tmp_path: Path, clock: Clock) -> None:
    with RecordingSmtpServer() as smtp:
        settings = load_settings(
            environ={
                "COOPMAIL_SMTP_URL": smtp.url,
                "COOPMAIL_SECRET_KEY": SECRET_KEY,
                "COOPMAIL_FROM": "Unidad de Cooperativas <coop@example.org>",
                "COOPMAIL_FEEDBACK_ID": "coopunit",
            },
            cwd=tmp_path,
        )
        mails = StaffMails(settings=settings, unit=built_in_unit)
        alert = LoginAlert(
            email=ANA,
            name="Ana <Quispe>",
            language="es",
            failures=5,
            window_seconds=900,
            ip="203.0.113.77",
            at=clock(),
        )
        mails.send(mails.login_alert(alert))
        received = smtp.wait_for(1)[0]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert received.recipients == (ANA,)
    assert (
        message["Subject"]
        == "Inicios de sesión fallidos en su cuenta de administración del equipo "
        "Unidad de Cooperativas"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_all("Feedback-ID") == ["system:login-alert:coopunit"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Hubo 5 intentos fallidos" in text.get_content()
    assert "203.0.113.77 a las 2026-12-01 09:00" in text.get_content()
    assert "Ana &lt;Quispe&gt;" in html.get_content()


def test_a_hash_with_old_parameters_is_replaced_at_login(staff: Staff) -> None:
    staff.create(ANA)
    older = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1, type=Type.ID)
    with staff.session() as session:
        session.execute(update(StaffAccount).values(password_hash=older.hash(PASSWORD)))
        session.commit()
    staff.login(ANA)
    with staff.session() as session:
        stored = session.scalars(select(StaffAccount.password_hash)).one()
    assert stored is not None and not passwords.needs_rehash(stored)
    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$")  # the tests' current hasher
    staff.login(ANA)


def test_a_disabled_account_is_told_so_only_with_the_right_password(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create(ANA)
    with staff.session() as session:
        session.execute(
            update(StaffAccount).where(StaffAccount.email == ANA).values(disabled_at=staff.clock())
        )
        session.commit()
    assert fail(staff) is LoginFailed
    with pytest.raises(AccountDisabled):
        staff.login(ANA)


def test_logins_and_failures_are_in_the_audit_log_with_the_address(staff: Staff) -> None:
    staff.create(ANA)
    fail(staff, ip="198.51.100.8")
    staff.login(ANA, ip="198.51.100.9")
    with staff.session() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("login%")).order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.actor, e.ip) for e in entries] == [
        ("login.failed", ANA, "198.51.100.8"),
        ("login", ANA, "198.51.100.9"),
    ]
    assert entries[0].details == {"failures": 1}
    assert entries[1].details == {"with": "password"}
    with staff.session() as session:
        account = session.scalars(select(StaffAccount)).one()
    assert account.last_login_at == staff.clock()


def test_the_login_function_takes_the_engine_so_failures_survive(staff: Staff) -> None:
    """The failure is committed before LoginFailed is raised: a caller's rollback cannot
    erase it."""
    staff.create(ANA)
    with pytest.raises(LoginFailed):
        login(
            staff.engine,
            email=ANA,
            password="wrong wrong wrong",
            ip=None,
            user_agent=None,
            now=staff.clock(),
            on_alert=staff.alerts.append,
        )
    with staff.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-1] == "login.failed"


def test_staff_mails_name_the_unit_as_an_owner_last_set_it(tmp_path: Path, clock: Clock) -> None:
    """The name is asked for at each mail, in the mail's language: a running admin does
    not keep the name it started with."""
    settings = load_settings(environ={"COOPMAIL_SECRET_KEY": SECRET_KEY}, cwd=tmp_path)
    unit = built_in_unit()
    mails = StaffMails(settings=settings, unit=lambda: unit)
    alert = LoginAlert(
        email=ANA, name="Ana", language="fr", failures=5, window_seconds=900, ip=None, at=clock()
    )

    def subject() -> str:
        message = email.message_from_bytes(
            mails.build(mails.login_alert(alert), now=clock()), policy=email.policy.default
        )
        return str(message["Subject"])

    assert subject().endswith("de l\N{RIGHT SINGLE QUOTATION MARK}équipe Unité des coopératives")
    unit = unit.with_texts({"fr": {"name": "Unité des coopératives et de l'économie sociale"}})
    assert subject().endswith("Unité des coopératives et de l'économie sociale")
