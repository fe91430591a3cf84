"""`coopmail users`: the CLI acts as the system, prints links, speaks JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coopmail.db import session_scope
from coopmail.staff import accounts
from coopmail.staff.links import LinkSigner
from coopmail.staff.models import AuditEntry, StaffSession
from tests.conftest import Cli
from tests.coopmail.staff.conftest import PASSWORD, SECRET_KEY, Staff

ANA = "ana@coop.example.org"


@pytest.fixture
def users(run: Cli) -> Cli:
    run.env.update(
        {"COOPMAIL_SECRET_KEY": SECRET_KEY, "COOPMAIL_BASE_URL": "https://news.example.org"}
    )
    run.ok("db", "upgrade")
    return run


SIGNER = LinkSigner.from_secret(secret_key=SECRET_KEY, base_url="https://news.example.org")


def use_link(staff: Staff, url: str, password: str = PASSWORD) -> None:
    with session_scope(staff.engine) as session:
        accounts.set_password_with_link(
            session,
            token=url.rsplit("/", 1)[1],
            password=password,
            signer=SIGNER,
            ip=None,
            now=staff.clock(),
        )


def test_create_without_a_password_prints_a_first_login_link(users: Cli, staff: Staff) -> None:
    created = users.ok(
        "users", "create", "Ana@Coop.example.org", "--role", "editor", "--name", "Ana"
    )
    url = created.stdout.strip()
    assert url.startswith("https://news.example.org/admin/password/")
    assert "works once" in created.stderr and "60 minutes" in created.stderr
    staff.clock.now = datetime.now(UTC)  # the command signed the link at the real time
    use_link(staff, url)
    assert staff.login(ANA).stage == "active"


def test_create_with_a_password_from_stdin_and_list_as_json(users: Cli, staff: Staff) -> None:
    created = users.ok(
        "users",
        "create",
        ANA,
        "--role",
        "owner",
        "--password-stdin",
        "--language",
        "fr",
        "--json",
        input=PASSWORD + "\n",
    ).json()
    assert created["link"] is None and created["password_set"] is True
    assert staff.login(ANA).stage == "active"
    listed = users.ok("users", "list", "--json").json()
    assert [(row["email"], row["role"], row["language"]) for row in listed] == [
        (ANA, "owner", "fr")
    ]
    assert set(listed[0]) == set(created) - {"link"}
    table = users.ok("users", "list").stdout
    assert "owner" in table and "active" in table


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--role", "admin", "--password-stdin"), "short\n", "shorter than 12 characters"),
        (("--role", "admin", "--password-stdin"), "password12345\n", "too common"),
        (("--role", "admin", "--password-stdin"), "", "no password on standard input"),
        (("--role", "chief"), None, "Invalid value for '--role'"),
    ],
)
def test_bad_input_creates_nothing(
    users: Cli, session: Session, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = users("users", "create", ANA, *args, input=stdin)
    assert result.exit_code in (1, 2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert users.ok("users", "list", "--json").json() == []


def test_mistakes_are_one_line_errors_with_a_hint(users: Cli) -> None:
    users.ok("users", "create", ANA, "--role", "owner", "--password-stdin", input=PASSWORD)
    duplicate = users("users", "create", "ANA@coop.example.org", "--role", "viewer")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr
    unknown = users("users", "disable", "nobody@coop.example.org")
    assert unknown.exit_code == 1
    assert "no staff account 'nobody@coop.example.org'; see `coopmail users list`" in unknown.stderr
    last = users("users", "set-role", ANA, "admin")
    assert last.exit_code == 1 and "last active owner" in last.stderr
    assert "coopmail users set-role EMAIL owner" in last.stderr
    assert users("users", "disable", ANA).exit_code == 1


def test_a_link_needs_the_secret_key_and_nothing_is_written_without_it(users: Cli) -> None:
    del users.env["COOPMAIL_SECRET_KEY"]
    result = users("users", "create", ANA, "--role", "admin")
    assert result.exit_code == 3 and "COOPMAIL_SECRET_KEY" in result.stderr
    assert users.ok("users", "list", "--json").json() == []


def test_role_disable_enable_reset_and_2fa_end_sessions(users: Cli, staff: Staff) -> None:
    users.ok(
        "users",
        "create",
        "owner@coop.example.org",
        "--role",
        "owner",
        "--password-stdin",
        input=PASSWORD,
    )
    users.ok("users", "create", ANA, "--role", "editor", "--password-stdin", input=PASSWORD)

    def sessions() -> int:
        with staff.session() as session:
            return len(session.scalars(select(StaffSession)).all())

    for args, said in [
        (("set-role", ANA, "admin"), "is now admin"),
        (("disable", ANA), "is disabled"),
        (("enable", ANA), "can log in again"),
        (("require-2fa", ANA), "sets up a second factor at their next login"),
        (("require-2fa", ANA, "--off"), "may log in without a second factor"),
    ]:
        if "enable" not in args:
            staff.login(ANA)
            assert sessions() == 1
        result = users.ok("users", *args)
        assert said in result.stderr
        if args[0] != "require-2fa" or "--off" not in args:
            assert sessions() == 0, args
        else:
            with staff.session() as session:
                session.execute(StaffSession.__table__.delete())
                session.commit()
    staff.login(ANA)
    reset = users.ok("users", "reset", ANA, "--json").json()
    assert reset["email"] == ANA and "/admin/password/" in reset["link"]
    assert sessions() == 0
    listed = {row["email"]: row for row in users.ok("users", "list", "--json").json()}
    assert listed[ANA]["role"] == "admin" and listed[ANA]["password_set"] is False
    with staff.session() as session:
        actors = set(
            session.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("staff.%")))
        )
    assert actors == {"system"}
