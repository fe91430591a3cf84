"""Sessions in the browser: a new id at every login and every step of it, revocation on
each event that changes an account's authority, idle and absolute expiry on a test clock,
and the cookie's flags."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Engine

from coopmail.db import session_scope
from coopmail.staff import second_factor
from coopmail.staff.roles import Actor, Role
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import PASSWORD, Admin, csrf_of, make_admin

ANA = "ana@unit.example.org"
OWNER = "olga@unit.example.org"
NEW_PASSWORD = "lantern meadow copper"


def cookie(admin: Admin, answer: object) -> str:
    token = answer.cookies.get(admin.cookie_name)  # type: ignore[attr-defined]
    assert token, "no session cookie was set"
    return str(token)


def still_in(admin: Admin, token: str) -> bool:
    browser = admin.browser()
    browser.cookies.set(admin.cookie_name, token)
    return browser.get("/admin/", follow_redirects=False).status_code == 200


def test_login_gives_a_new_session_id_and_a_planted_one_is_worthless(admin: Admin) -> None:
    admin.create(ANA)
    admin.create(OWNER, Role.OWNER)
    browser = admin.browser()
    browser.cookies.set(admin.cookie_name, "planted-by-someone-else")
    first = cookie(admin, admin.log_in(browser, ANA))
    assert first != "planted-by-someone-else"
    assert not still_in(admin, "planted-by-someone-else")
    # Someone plants a session of their own, valid, in the browser at the login form.
    browser = admin.browser()
    form = browser.get("/admin/login")
    planted = admin.token_for(OWNER)
    browser.cookies.set(admin.cookie_name, planted)
    answer = browser.post(
        "/admin/login",
        data={"email": ANA, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    second = cookie(admin, answer)
    assert second not in (planted, first)
    assert still_in(admin, second) and still_in(admin, first)  # two logins, two sessions
    assert admin.browser(cookies={admin.cookie_name: second}).get("/admin/account").text.count(ANA)


def test_the_second_factor_step_replaces_the_session_again(admin: Admin) -> None:
    admin.create(ANA)
    with session_scope(admin.engine) as session:
        account_id = admin.account(ANA).id
        actor = Actor(account_id=account_id, label=ANA, role=Role.ADMIN)
        secret = second_factor.begin_enrolment(
            session, actor=actor, account_id=account_id, issuer="Unit"
        ).secret
        second_factor.confirm_enrolment(
            session,
            actor=actor,
            account_id=account_id,
            code=pyotp.TOTP(secret).at(admin.clock()),
            now=admin.clock(),
        )
    admin.clock.advance(seconds=60)
    browser = admin.browser()
    answer = admin.log_in(browser, ANA)
    assert answer.headers["location"] == "/admin/login/code"
    pending = cookie(admin, answer)
    assert browser.get("/admin/", follow_redirects=False).headers["location"] == (
        "/admin/login/code"
    )
    page = browser.get("/admin/login/code")
    wrong = browser.post(
        "/admin/login/code",
        data={"code": "000000", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert wrong.status_code == 400
    done = browser.post(
        "/admin/login/code",
        data={"code": pyotp.TOTP(secret).at(admin.clock()), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/"
    full = cookie(admin, done)
    assert full != pending and still_in(admin, full) and not still_in(admin, pending)


def test_logout_ends_the_session(admin: Admin) -> None:
    admin.create(ANA)
    browser = admin.browser()
    token = cookie(admin, admin.log_in(browser, ANA))
    answer = admin.post(browser, "/admin/logout", "/admin/logout", {})
    assert answer.headers["location"] == "/admin/login?done=logged_out"
    assert not still_in(admin, token)
    assert browser.get("/admin/", follow_redirects=False).headers["location"] == "/admin/login"


def test_changing_ones_password_ends_every_other_session_and_keeps_this_one(
    admin: Admin,
) -> None:
    admin.create(ANA)
    elsewhere = admin.token_for(ANA)
    browser = admin.browser()
    here = cookie(admin, admin.log_in(browser, ANA))
    answer = admin.post(
        browser,
        "/admin/account",
        "/admin/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert answer.headers["location"] == "/admin/account?done=password_changed"
    fresh = cookie(admin, answer)
    assert fresh != here
    assert not still_in(admin, elsewhere) and not still_in(admin, here)
    assert browser.get("/admin/account").status_code == 200  # the person stays, anew
    assert admin.log_in(admin.browser(), ANA, NEW_PASSWORD).headers["location"] == "/admin/"


@pytest.mark.parametrize(
    ("action", "data"),
    [("role", {"role": "viewer"}), ("disable", {}), ("reset", {})],
)
def test_an_owners_change_ends_every_session_of_the_account(
    admin: Admin, action: str, data: dict[str, str]
) -> None:
    admin.create(OWNER, Role.OWNER)
    account_id = admin.create(ANA)
    sessions = [admin.token_for(ANA), admin.token_for(ANA)]
    owner = admin.signed_in(OWNER)
    page = f"/admin/staff/{account_id}"
    answer = admin.post(owner, page, f"{page}/{action}", data)
    assert answer.status_code in (200, 303)
    assert not any(still_in(admin, token) for token in sessions)
    assert still_in(admin, owner.cookies[admin.cookie_name])


def test_one_session_is_revoked_from_the_account_page(admin: Admin) -> None:
    admin.create(ANA)
    other = admin.token_for(ANA)
    browser = admin.signed_in(ANA)
    with admin.session() as session:
        from sqlalchemy import select

        from coopmail.staff.models import StaffSession
        from coopmail.staff.sessions import token_hash

        other_id = session.scalar(
            select(StaffSession.id).where(StaffSession.token_hash == token_hash(other))
        )
    answer = admin.post(browser, "/admin/account", f"/admin/account/sessions/{other_id}/revoke", {})
    assert answer.headers["location"] == "/admin/account?done=session_revoked"
    assert not still_in(admin, other)
    assert still_in(admin, browser.cookies[admin.cookie_name])


def test_an_idle_session_ends_and_use_keeps_it_alive(admin: Admin) -> None:
    admin.create(ANA)
    idle = admin.settings.session_idle_timeout
    used, left = admin.token_for(ANA), admin.token_for(ANA)
    for _ in range(3):  # used every while, past the idle timeout in all
        admin.clock.advance(seconds=idle - 60)
        assert still_in(admin, used)
    browser = admin.browser()
    browser.cookies.set(admin.cookie_name, left)
    answer = browser.get("/admin/lists", follow_redirects=False)
    assert answer.headers["location"] == "/admin/login?next=/admin/lists&ended=idle"
    page = browser.get(answer.headers["location"])
    assert "You were logged out after a while without activity" in page.text


def test_a_session_ends_at_its_lifetime_however_busy(admin: Admin) -> None:
    admin.create(ANA)
    token = admin.token_for(ANA)
    lifetime = admin.settings.session_lifetime
    step = admin.settings.session_idle_timeout // 2
    elapsed = 0
    while elapsed + step < lifetime:
        admin.clock.advance(seconds=step)
        elapsed += step
        assert still_in(admin, token)
    admin.clock.advance(seconds=lifetime - elapsed)
    browser = admin.browser()
    browser.cookies.set(admin.cookie_name, token)
    answer = browser.get("/admin/", follow_redirects=False)
    assert answer.headers["location"] == "/admin/login?ended=expired"


def test_the_cookie_is_httponly_and_lax_and_under_https_secure_with_the_host_prefix(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    plain = make_admin(engine, database_url, tmp_path, clock)
    plain.create(ANA)
    header = plain.log_in(plain.browser(), ANA).headers["set-cookie"]
    assert header.startswith("coopmail-admin=")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    assert "Secure" not in header
    https = make_admin(engine, database_url, tmp_path, clock, base_url="https://testserver")
    header = https.log_in(https.browser(), ANA).headers["set-cookie"]
    assert header.startswith("__Host-coopmail-admin=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=lax" in header
    assert "Domain" not in header and "Path=/" in header


def test_a_script_without_a_session_gets_401_and_a_page_the_login(admin: Admin) -> None:
    browser = admin.browser()
    assert (
        browser.get("/admin/subscribers", headers={"Accept": "application/json"}).status_code == 401
    )
    answer = browser.get("/admin/subscribers?q=ana", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=/admin/subscribers%3Fq%3Dana"


def test_after_login_the_person_is_taken_where_they_were_going_and_never_elsewhere(
    admin: Admin,
) -> None:
    admin.create(ANA)
    for wanted, landed in [
        ("/admin/subscribers?q=ana", "/admin/subscribers?q=ana"),
        ("https://evil.example/admin/", "/admin/"),
        ("//evil.example/", "/admin/"),
        ("/admin/\\\\evil.example", "/admin/"),
    ]:
        browser = admin.browser()
        page = browser.get("/admin/login", params={"next": wanted})
        answer = browser.post(
            "/admin/login",
            data={
                "email": ANA,
                "password": PASSWORD,
                "next": wanted,
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == landed


def test_two_web_processes_share_the_login_throttle(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Two applications, each with its own engine (as two `coopmail serve` processes have),
    count one account's failures together: the sixth try, on either, is refused."""
    from coopmail.db import make_engine

    first = make_admin(engine, database_url, tmp_path, clock)
    other_engine = make_engine(database_url)
    try:
        second = make_admin(other_engine, database_url, tmp_path, clock)
        first.create(ANA)
        tries = [first, second, first, second, second]
        for app in tries:
            assert app.log_in(app.browser(), ANA, "not the password at all").status_code == 400
        for app in (first, second):
            refused = app.log_in(app.browser(), ANA)  # even the right password waits
            assert refused.status_code == 429
            assert 0 < int(refused.headers["Retry-After"]) <= 16 * 60  # buckets of 15 s
            assert "Too many failed attempts" in refused.text
        clock.advance(minutes=16)
        assert second.log_in(second.browser(), ANA).headers["location"] == "/admin/"
    finally:
        other_engine.dispose()
