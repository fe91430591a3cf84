"""A digest issue left as a draft tells the admins by mail, and flags items without a link."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer, built_in_unit
from campaigns.models import Digest
from campaigns.news import NewsItem
from coopmail.config import load_settings
from coopmail.digest_approval import notify_approvers
from coopmail.scheduling import SchedulerService
from coopmail.web.staff_mail import StaffMails
from tests.conftest import Cli
from tests.smtp_server import RecordingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.fixture
def unit(run: Cli, smtp_server: RecordingSmtpServer) -> Cli:
    run.env.update(
        {
            "COOPMAIL_SECRET_KEY": "digest-approval-secret-key-123",
            "COOPMAIL_BASE_URL": "https://news.example.org",
            "COOPMAIL_SMTP_URL": smtp_server.url,
        }
    )
    run.ok("lists", "create", "partners")
    run.ok("digest", "configure", "--list", "partners", "--cron", "0 9 1 * *", "--draft")
    for address, role, language in (
        ("owner@example.org", "owner", "fr"),
        ("admin@example.org", "admin", "en"),
        ("editor@example.org", "editor", "en"),
    ):
        run.ok("users", "create", address, "--role", role, "--language", language)
    run.ok("users", "disable", "admin@example.org")
    run.ok("users", "create", "second@example.org", "--role", "admin", "--name", "Ama")
    return run


def test_a_draft_issue_mails_every_admin_and_flags_items_without_links(
    unit: Cli, session: Session, smtp_server: RecordingSmtpServer
) -> None:
    unit.ok(
        "news", "add", "--title", "Solar villages", "--date", "2026-11-12",
        "--link", "https://coop.example.org/solar",
    )  # fmt: skip
    session.add(NewsItem(title="Market day", published_on=date(2026, 11, 20), source="listing"))
    session.commit()
    result = unit.ok("digest", "run", "--list", "partners", "--month", "2026-11")
    assert "waits for approval as campaign" in result.stderr
    assert "Warning: 1 items have no link, so no “read more”: Market day." in result.stderr
    assert "Told 2 admins by mail" in result.stderr
    received = {
        m.recipients[0]: email.message_from_bytes(m.data, policy=email.policy.default)
        for m in smtp_server.messages
    }
    assert set(received) == {"owner@example.org", "second@example.org"}
    french = received["owner@example.org"]
    assert french["Subject"] == "La lettre d\u2019information de novembre 2026 attend votre accord"
    english = received["second@example.org"].get_body(("plain",)).get_content()
    assert english.startswith("Hello Ama,")
    assert "to the list partners (2 stories)" in english
    assert "https://news.example.org/admin/campaigns/" in english

    campaign = unit.ok("campaigns", "list", "--json").json()[0]["id"]
    checked = unit("campaigns", "check", str(campaign), "--json").json()
    items = {item["name"]: item for item in checked["items"]}
    assert items["digest_item_links"] == {
        "name": "digest_item_links",
        "verdict": "warn",
        "detail": {"without_link": ["Market day"]},
    }


def test_a_month_without_news_says_which_months_have_some(unit: Cli) -> None:
    unit.ok(
        "news", "add", "--title", "Solar villages", "--date", "2026-10-12",
        "--link", "https://coop.example.org/solar",
    )  # fmt: skip
    result = unit.ok("digest", "run", "--list", "partners", "--month", "2026-11")
    assert "No news items for November 2026 (months with items: October 2026)" in result.stderr
    assert "Told" not in result.stderr


def test_the_scheduled_run_mails_the_admins_as_the_cli_does(
    unit: Cli,
    session: Session,
    engine: Engine,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
) -> None:
    """`coopmail serve` builds the issue on its schedule: the admins hear of it the same way."""
    session.add(NewsItem(title="Market day", published_on=date(2026, 11, 20), source="listing"))
    session.commit()
    settings = load_settings(environ=unit.env, cwd=tmp_path)
    mails = StaffMails(settings=settings, unit=built_in_unit)
    scheduler = SchedulerService(
        engine=engine,
        composer=Composer(),
        timezone="UTC",
        grace=timedelta(hours=1),
        on_issue=lambda run: notify_approvers(engine, mails=mails, run=run),
    )
    digest_id = session.scalars(select(Digest.id)).one()
    scheduler.build_digest(digest_id, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert sorted(m.recipients[0] for m in smtp_server.messages) == [
        "owner@example.org",
        "second@example.org",
    ]
    scheduler.build_digest(digest_id, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert len(smtp_server.messages) == 2  # a month is built once, and told once
