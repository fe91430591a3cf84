"""Staff accounts made quickly for the tests, and the settings the staff code reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from coopmail.db import session_scope
from coopmail.staff import accounts, passwords
from coopmail.staff.links import LinkSigner
from coopmail.staff.login import LoggedIn, LoginAlert, login
from coopmail.staff.models import StaffAccount
from coopmail.staff.roles import Actor, Role
from tests.conftest import Clock

PASSWORD = "violet harbour tractor"
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
SECRET_KEY = "staff-tests-secret-key-0123456789"
SIGNER = LinkSigner.from_secret(secret_key=SECRET_KEY, base_url="https://news.example.org")


@dataclass
class Staff:
    """Creates accounts and logs them in against one database and one clock."""

    engine: Engine
    clock: Clock
    alerts: list[LoginAlert] = field(default_factory=list)

    def create(
        self, email: str, role: Role = Role.ADMIN, *, password: str | None = PASSWORD, **extra: str
    ) -> StaffAccount:
        with session_scope(self.engine) as session:
            return accounts.create_account(
                session,
                actor=Actor.system(),
                email=email,
                role=role,
                password=password,
                now=self.clock(),
                **extra,  # type: ignore[arg-type]
            )

    def actor(self, email: str, ip: str | None = "192.0.2.10") -> Actor:
        with session_scope(self.engine, write=False) as session:
            account = accounts.find_account(session, reference=email)
            return Actor(account_id=account.id, label=account.email, role=account.role, ip=ip)

    def login(self, email: str, password: str = PASSWORD, *, ip: str = "192.0.2.10") -> LoggedIn:
        return login(
            self.engine,
            email=email,
            password=password,
            ip=ip,
            user_agent="pytest",
            now=self.clock(),
            on_alert=self.alerts.append,
        )

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


@pytest.fixture(autouse=True)
def _quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, at a cost a test suite on two shared cores can afford (the real
    parameters take about half a second a hash here); test_passwords checks those."""
    monkeypatch.setattr(passwords, "HASHER", QUICK_HASHER)


@pytest.fixture
def staff(engine: Engine, clock: Clock) -> Iterator[Staff]:
    yield Staff(engine=engine, clock=clock)
