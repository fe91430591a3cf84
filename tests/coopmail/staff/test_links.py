"""Reset and first-login links: signed, an hour, once; voided by newer links and changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coopmail.db import session_scope
from coopmail.staff import accounts
from coopmail.staff.errors import InvalidLink, LoginFailed
from coopmail.staff.links import LINK_PATH, LinkSigner, read_link
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Actor, Role
from subscribers.tokens import make_token
from tests.coopmail.staff.conftest import SECRET_KEY, SIGNER, Staff

ANA = "ana@coop.example.org"
NEW = "quinoa fields at dawn"


def reset_link(staff: Staff) -> str:
    with session_scope(staff.engine) as session:
        url = accounts.reset_account(
            session, actor=Actor.system(), reference=ANA, signer=SIGNER, now=staff.clock()
        )
    assert url.startswith("https://news.example.org" + LINK_PATH)
    return url.rsplit("/", 1)[1]


def set_password(staff: Staff, token: str, password: str = NEW) -> None:
    with session_scope(staff.engine) as session:
        accounts.set_password_with_link(
            session, token=token, password=password, signer=SIGNER, ip=None, now=staff.clock()
        )


def test_a_reset_link_sets_a_password_once(staff: Staff) -> None:
    staff.create(ANA)
    token = reset_link(staff)
    with pytest.raises(LoginFailed):  # the old password stopped working at the reset
        staff.login(ANA)
    with staff.session() as session:  # showing the page uses nothing up
        read_link(session, signer=SIGNER, token=token, now=staff.clock())
        read_link(session, signer=SIGNER, token=token, now=staff.clock())
    set_password(staff, token)
    assert staff.login(ANA, NEW).account_id
    with pytest.raises(InvalidLink):
        set_password(staff, token, "another fine passphrase")
    assert staff.login(ANA, NEW)


def test_a_link_expires_after_an_hour(staff: Staff) -> None:
    staff.create(ANA)
    token = reset_link(staff)
    staff.clock.advance(minutes=59, seconds=59)
    with staff.session() as session:
        read_link(session, signer=SIGNER, token=token, now=staff.clock())
    staff.clock.advance(seconds=2)
    with pytest.raises(InvalidLink):
        set_password(staff, token)


def test_a_first_login_link_for_an_account_without_password(staff: Staff) -> None:
    staff.create(ANA, Role.EDITOR, password=None)
    with pytest.raises(LoginFailed):
        staff.login(ANA, "")
    with session_scope(staff.engine) as session:
        url = accounts.invite(
            session, actor=Actor.system(), reference=ANA, signer=SIGNER, now=staff.clock()
        )
    set_password(staff, url.rsplit("/", 1)[1])
    assert staff.login(ANA, NEW)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token + "=",
        lambda token: "",
        lambda token: "x" * 500,
        # the same values, signed with the unit's key as a subscriber link would be
        lambda token: make_token(
            key=SECRET_KEY.encode(), purpose="staff-password-link", values=(1, 1), issued_at=0
        ),
        # signed with another installation's key
        lambda token: (
            LinkSigner.from_secret(
                secret_key="another-installation-secret-key", base_url="https://x.example.org"
            )
            .url(token)
            .rsplit("/", 1)[1][:-1]
            + "A"
        ),
    ],
)
def test_tampered_or_foreign_tokens_are_refused(staff: Staff, forge: object) -> None:
    staff.create(ANA)
    token = reset_link(staff)
    with pytest.raises(InvalidLink):
        set_password(staff, forge(token))  # type: ignore[operator]


def test_a_newer_link_a_password_change_or_disabling_voids_older_links(staff: Staff) -> None:
    staff.create("owner@coop.example.org", Role.OWNER)
    staff.create(ANA)
    older, newer = reset_link(staff), reset_link(staff)
    with pytest.raises(InvalidLink):
        set_password(staff, older)
    set_password(staff, newer)
    pending = reset_link(staff)
    with session_scope(staff.engine) as session:
        accounts.disable_account(session, actor=Actor.system(), reference=ANA, now=staff.clock())
        accounts.enable_account(session, actor=Actor.system(), reference=ANA, now=staff.clock())
    with pytest.raises(InvalidLink):
        set_password(staff, pending)


def test_a_weak_new_password_keeps_the_link_usable(staff: Staff) -> None:
    staff.create(ANA)
    token = reset_link(staff)
    with pytest.raises(Exception, match="shorter than 12"):
        set_password(staff, token, "short")
    set_password(staff, token)


def test_reset_requests_answer_the_same_and_are_throttled(staff: Staff) -> None:
    staff.create(ANA, name="Ana", language="fr")
    with session_scope(staff.engine) as session:
        unknown = accounts.request_password_reset(
            session,
            email="nobody@coop.example.org",
            ip="192.0.2.9",
            signer=SIGNER,
            now=staff.clock(),
        )
        assert unknown is None
        mails = [
            accounts.request_password_reset(
                session,
                email="ANA@coop.example.org",
                ip="192.0.2.9",
                signer=SIGNER,
                now=staff.clock(),
            )
            for _ in range(4)
        ]
    assert [mail is not None for mail in mails] == [True, True, True, False]
    assert mails[0] is not None and (mails[0].language, mails[0].name) == ("fr", "Ana")
    assert staff.login(ANA)  # asking for a link changes nothing until it is used
    with staff.session() as session:
        issued = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.link_issued"))
        assert [entry.ip for entry in issued] == ["192.0.2.9"] * 3
