"""Shared fixtures: real databases (a SQLite file and PostgreSQL) and the command line.

Every test that takes ``database_url`` (or anything built on it) runs once on SQLite and
once on PostgreSQL. PostgreSQL comes from COOPMAIL_TEST_POSTGRES_URL; unset, those runs
skip with a visible reason; set but unreachable, they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from coopmail.cli import cli
from coopmail.db import make_engine, schema_metadata, session_factory, upgrade

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

    from tests.postfix_relay import PostfixRelay

POSTGRES_ENV = "COOPMAIL_TEST_POSTGRES_URL"
REQUIRE_SEEDS_ENV = "COOPMAIL_TEST_REQUIRE_SEEDS"  # set by CI, where ../shared is beside
# Set by CI, which installs Node, SpamAssassin and Mail::DKIM: their tests must run there.
REQUIRE_MAIL_TOOLS_ENV = "COOPMAIL_TEST_REQUIRE_MAIL_TOOLS"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
# No first-run chores and no background traffic: this machine's network is closed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close folds the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def _postgres_schema_url() -> Iterator[str]:
    """A schema of our own for this test run, migrated once, dropped at the end."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} (see docs/contributing.md)")
    schema = f"coopmail_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}", pytrace=False)
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    upgrade(engine)
    engine.dispose()
    try:
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "coopmail.db"
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_postgres_schema_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in schema_metadata().sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)

    def table(self) -> dict[str, list[str]]:
        """The rows of a table the command printed, by their first cell; a cell a narrow
        terminal folded onto several lines has them joined with newlines."""
        rows: dict[str, list[str]] = {}
        cells: list[list[str]] = []
        body = self.stdout.split("┩\n", 1)[1].rsplit("└", 1)[0]
        for line in body.splitlines():
            parts = [part.strip() for part in line.strip().strip("│").split("│")]
            if parts[0]:  # a new row; a folded line leaves the first cell empty
                cells = [[] for _ in parts]
                rows[parts[0]] = []
            for lines, part in zip(cells, parts, strict=True):
                if part:
                    lines.append(part)
            rows[cells[0][0]] = ["\n".join(lines) for lines in cells]
        return rows


class Cli:
    """Runs `coopmail` in-process against the test database, from a scratch directory."""

    def __init__(self, database_url: str, workdir: Path, session: Session) -> None:
        self.env = {"COOPMAIL_DATABASE_URL": database_url, "COOPMAIL_CONFIG": ""}
        self.workdir = workdir
        self._session = session

    def __call__(self, *args: str, input: str | bytes | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(cli, list(args), env=self.env, input=input, catch_exceptions=False)
        self._session.rollback()  # the test's next read sees what the command wrote
        return CliResult(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, input: str | bytes | None = None) -> CliResult:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.stdout}"
        return result


@pytest.fixture
def run(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session: Session
) -> Cli:
    monkeypatch.chdir(tmp_path)
    return Cli(database_url, tmp_path, session)


@pytest.fixture(scope="session")
def seeds() -> Path:
    """The unit's documents in ../shared/seeds: beside the clone in CI, perhaps not in a
    clone from anywhere else, whose `make test` must still pass."""
    if not SEEDS.is_dir():
        if os.environ.get(REQUIRE_SEEDS_ENV):
            pytest.fail(f"the shared seeds are missing: {SEEDS}", pytrace=False)
        pytest.skip(f"the shared seeds are not beside this clone ({SEEDS})")
    return SEEDS


def _mail_tool(what: str, reason: str | None) -> None:
    """Skip (or, in CI, fail) saying why a tool we did not write cannot judge our mail."""
    if reason is None:
        return
    if os.environ.get(REQUIRE_MAIL_TOOLS_ENV):
        pytest.fail(f"{what} cannot run: {reason}", pytrace=False)
    pytest.skip(f"{what} skipped: {reason}")


@pytest.fixture(scope="session")
def email_lint() -> None:
    """caniemail's checker (Node and @jsx-email/doiuse-email from make) is here."""
    from tests.templates.email_lint import missing

    _mail_tool("the mail lint", missing())


@pytest.fixture(scope="session")
def spamassassin() -> None:
    """SpamAssassin (Debian's spamassassin package) is here."""
    from tests.templates.spam import missing

    _mail_tool("the SpamAssassin test", missing())


@pytest.fixture(scope="session")
def perl_dkim() -> None:
    """Perl's Mail::DKIM and Net::DNS (libmail-dkim-perl) are here."""
    from tests.mailer.perl_dkim import missing

    _mail_tool("the Mail::DKIM test", missing())


@pytest.fixture(scope="session")
def opendkim() -> None:
    """OpenDKIM (Debian's opendkim) is here, for the Ed25519 signatures Mail::DKIM cannot
    check."""
    from tests.mailer.opendkim import missing

    _mail_tool("the OpenDKIM test", missing())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for all skipped tests, counted by reason, instead of a line per test."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        counted = "; ".join(f"{reason} ({count})" for reason, count in reasons.most_common())
        terminalreporter.write_line(f"skipped {sum(reasons.values())}: {counted}", yellow=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright driving Debian's Chromium: never a browser it downloads itself.

    Per module: while it runs, its event loop occupies the thread, and asyncio.run() in
    any other test would fail."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get update && apt-get install -y chromium)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the playwright package is missing: pip install 'playwright>=1.45' "
            "(never `playwright install`: the tests use /usr/bin/chromium)",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def postfix_relay() -> Iterator[PostfixRelay]:
    """A real Postfix on 127.0.0.1 (STARTTLS, PIPELINING, CHUNKING) relaying to a recording
    server (`postfix_relay.target`); one per test module, so tests use their own addresses."""
    from tests.postfix_relay import PostfixRelay, missing
    from tests.smtp_server import RecordingSmtpServer

    reason = missing()
    if reason is not None:
        pytest.skip(f"Postfix relay tests skipped: {reason}")
    with RecordingSmtpServer() as target, PostfixRelay(target=target) as relay:
        yield relay
