"""`coopmail users`: staff accounts for the admin, from the terminal.

The command line acts as the system: it may do anything an owner may, and its actions
are in the audit log as "system".
"""

from __future__ import annotations

import sys
from typing import Any

import click

from coopmail.cli.app import App
from coopmail.cli.output import add_row, emit_json, note, out, table
from coopmail.staff import accounts
from coopmail.staff.errors import AccountNotFound
from coopmail.staff.links import LINK_MAX_AGE, LinkSigner
from coopmail.staff.models import StaffAccount
from coopmail.staff.roles import Actor, Role
from subscribers.base import utcnow
from subscribers.languages import LANGUAGES

LOGIN_PATH = "/admin/login"
_ROLES = click.Choice([role.value for role in Role])


@click.group("users")
def users_group() -> None:
    """Staff accounts for the admin: create, list, roles, disable, reset."""


def account_row(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
        "language": account.language,
        "disabled": account.disabled,
        "password_set": account.password_hash is not None,
        "second_factor": account.second_factor_enabled,
        "second_factor_required": account.second_factor_required,
        "created_at": account.created_at.isoformat(),
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
    }


def _signer(app: App) -> LinkSigner:
    settings = app.settings
    return LinkSigner.from_secret(
        secret_key=settings.require_secret_key().reveal(), base_url=settings.base_url
    )


def _link_note(url: str, what: str) -> None:
    minutes = int(LINK_MAX_AGE.total_seconds() // 60)
    note(
        f"Give this link to the person: it opens a page to choose {what}, works once, and "
        f"expires in {minutes} minutes (make another with `coopmail users reset EMAIL`). "
        "Do not paste it anywhere public."
    )


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=_ROLES, required=True, help="What the account may do.")
@click.option("--name", default="", help="The person's name, as the admin shows it.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default="en",
    show_default=True,
    help="The admin's language for this person.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input; without it, print a first-login link.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def create(
    app: App, email: str, role: str, name: str, language: str, password_stdin: bool, as_json: bool
) -> None:
    """Create the staff account EMAIL."""
    password = _read_password() if password_stdin else None
    signer = None if password is not None else _signer(app)  # before anything is written
    now = utcnow()
    with app.session() as session:
        account = accounts.create_account(
            session,
            actor=Actor.system(),
            email=email,
            role=Role(role),
            name=name,
            language=language,
            password=password,
            now=now,
        )
        url = None
        if signer is not None:
            url = accounts.invite(
                session, actor=Actor.system(), reference=account.email, signer=signer, now=now
            )
        row = account_row(account)
    if as_json:
        emit_json({**row, "link": url})
        return
    note(f"Created the {row['role']} account {row['email']}.")
    if url is not None:
        click.echo(url)
        _link_note(url, "a password")
    else:
        note(f"They can log in at {app.settings.base_url}{LOGIN_PATH}.")


def _read_password() -> str:
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if password.endswith("\r"):
        password = password[:-1]
    if not password:
        raise click.ClickException("no password on standard input; pipe one line to it")
    return password


@users_group.command("list")
@click.option("--role", type=_ROLES, default=None, help="Only accounts with this role.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_command(app: App, role: str | None, as_json: bool) -> None:
    """Every staff account: role, language, second factor, last login."""
    rows: list[dict[str, Any]] = []
    with app.session() as session:
        after = None
        while True:
            page = accounts.search_accounts(
                session,
                actor=Actor.system(),
                role=Role(role) if role else None,
                after=after,
                limit=accounts.PAGE_MAX,
            )
            rows.extend(account_row(account) for account in page.accounts)
            if page.next_after is None:
                break
            after = page.next_after
    if as_json:
        emit_json(rows)
        return
    if not rows:
        note("No staff accounts yet. Create one with `coopmail users create EMAIL --role owner`.")
        return
    grid = table("id", "email", "name", "role", "language", "2FA", "status", "last login")
    for row in rows:
        second = (
            "on" if row["second_factor"] else ("required" if row["second_factor_required"] else "")
        )
        status = "disabled" if row["disabled"] else ("active" if row["password_set"] else "invited")
        last = row["last_login_at"][:16].replace("T", " ") if row["last_login_at"] else "never"
        cells = (row["id"], row["email"], row["name"], row["role"], row["language"])
        add_row(grid, *cells, second, status, last)
    out.print(grid)


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=_ROLES)
@click.pass_obj
def set_role(app: App, email: str, role: str) -> None:
    """Give EMAIL the ROLE; their sessions end, so the new role holds at once."""
    with app.session() as session:
        account = accounts.set_role(
            session, actor=Actor.system(), reference=email, role=Role(role), now=utcnow()
        )
        address = account.email
    note(f"{address} is now {role}; they log in again to use it.")


@users_group.command("disable")
@click.argument("email")
@click.pass_obj
def disable(app: App, email: str) -> None:
    """Stop EMAIL logging in; their sessions end now. Undo with `users enable`."""
    with app.session() as session:
        address = accounts.disable_account(
            session, actor=Actor.system(), reference=email, now=utcnow()
        ).email
    note(f"{address} is disabled and logged out everywhere.")


@users_group.command("enable")
@click.argument("email")
@click.pass_obj
def enable(app: App, email: str) -> None:
    """Let a disabled EMAIL log in again."""
    with app.session() as session:
        address = accounts.enable_account(
            session, actor=Actor.system(), reference=email, now=utcnow()
        ).email
    note(f"{address} can log in again.")


@users_group.command("reset")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def reset(app: App, email: str, as_json: bool) -> None:
    """End EMAIL's sessions and password, and print a link to choose a new one."""
    signer = _signer(app)
    with app.session() as session:
        url = accounts.reset_account(
            session, actor=Actor.system(), reference=email, signer=signer, now=utcnow()
        )
        address = accounts.find_account(session, reference=email).email
    if as_json:
        emit_json({"email": address, "link": url})
        return
    note(f"{address} is logged out everywhere and their password no longer works.")
    click.echo(url)
    _link_note(url, "a new password")


@users_group.command("require-2fa")
@click.argument("email")
@click.option("--off", is_flag=True, help="Lift the requirement instead.")
@click.pass_obj
def require_second_factor(app: App, email: str, off: bool) -> None:
    """Require EMAIL to log in with a second factor (an authenticator app)."""
    with app.session() as session:
        account = accounts.set_second_factor_required(
            session, actor=Actor.system(), reference=email, required=not off, now=utcnow()
        )
        address, enabled = account.email, account.second_factor_enabled
    if off:
        note(f"{address} may log in without a second factor.")
    elif enabled:
        note(f"{address} must keep their second factor; they already use one.")
    else:
        note(f"{address} sets up a second factor at their next login; they were logged out.")


def demo_owner(app: App, *, email: str) -> tuple[str, str | None]:
    """The demo's owner account (made once) and, while it has no password, a fresh
    first-login link: for `coopmail demo`."""
    signer = _signer(app)
    now = utcnow()
    with app.session() as session:
        try:
            account = accounts.find_account(session, reference=email)
        except AccountNotFound:
            account = accounts.create_account(
                session,
                actor=Actor.system(),
                email=email,
                role=Role.OWNER,
                name="Demo owner",
                now=now,
            )
        if account.password_hash is not None:
            return account.email, None
        url = accounts.invite(
            session, actor=Actor.system(), reference=account.email, signer=signer, now=now
        )
        return account.email, url


def register(cli: click.Group) -> None:
    cli.add_command(users_group)
