"""Rendering (the slow part of creating or starting a campaign) never holds a write lock:
a slow template must not stop every other writer of the database, on SQLite above all."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from campaigns.compose import Composer, Composition
from campaigns.digest import configure_digest
from campaigns.models import Campaign, CampaignStatus
from campaigns.news import NewsItem
from campaigns.schedule import schedule_campaign
from coopmail.apikeys import create_api_key
from coopmail.cli.app import App
from coopmail.config import load_settings
from coopmail.db import session_scope
from coopmail.scheduling import SchedulerService
from coopmail.web import WebContext, create_app
from subscribers.lists import create_list, get_list
from templates import sample_path
from tests.campaigns.test_delivery import letter
from tests.conftest import Cli

KEY = "a-test-secret-key-of-some-length"


class LockProbe(Composer):
    """A composer that, at every render, checks whether anyone holds a write lock."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.seen: list[bool] = []

    def compose(self, **kwargs: Any) -> Composition:
        self.seen.append(write_lock_held(self.database_url))
        return super().compose(**kwargs)


def write_lock_held(database_url: str) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # "database is locked"
            return True
        finally:
            other.close()
    from coopmail.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            held = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND l.pid <> pg_backend_pid() "
                    "AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', "
                    "'ExclusiveLock', 'AccessExclusiveLock')"
                )
            )
        return bool(held)
    finally:
        engine.dispose()


@pytest.fixture
def probe(database_url: str) -> LockProbe:
    return LockProbe(database_url)


@pytest.fixture
def partners(session: Session) -> None:
    create_list(session, name="partners", title="Partners")
    session.commit()


def test_the_api_renders_a_new_campaign_outside_the_write_lock(
    engine: Engine, database_url: str, tmp_path: Path, probe: LockProbe, partners: None
) -> None:
    settings = load_settings(
        environ={"COOPMAIL_DATABASE_URL": database_url, "COOPMAIL_SECRET_KEY": KEY},
        cwd=tmp_path,
    )
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=probe))
    with session_scope(engine) as session:
        token = create_api_key(session, name="probe").token
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/campaigns",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "letter", "content": sample_path("solidarity-letter").read_text()},
        )
    assert response.status_code == 201, response.text
    assert probe.seen == [False]


def test_the_cli_renders_outside_the_write_lock(
    run: Cli, tmp_path: Path, probe: LockProbe, monkeypatch: pytest.MonkeyPatch, partners: None
) -> None:
    monkeypatch.setattr(App, "composer", property(lambda _app: probe))
    run.env["COOPMAIL_SECRET_KEY"] = KEY
    shutil.copyfile(sample_path("solidarity-letter"), tmp_path / "letter.md")
    created = run.ok("campaigns", "create", "--content", "letter.md", "--json").json()
    run.ok("campaigns", "send", str(created["id"]), "--detach")
    assert probe.seen == [False, False]


def test_the_scheduler_renders_outside_the_write_lock(
    engine: Engine, session: Session, probe: LockProbe, partners: None, tmp_path: Path
) -> None:
    campaign = letter(session, tmp_path, ["partners"])
    at = datetime.now(UTC) + timedelta(hours=1)
    schedule_campaign(session, campaign=campaign, at=at, now=datetime.now(UTC))
    session.commit()
    probe.seen.clear()  # the letter itself was made with the probe's help, in a test
    scheduler = SchedulerService(
        engine=engine, composer=probe, timezone="UTC", grace=timedelta(hours=1)
    )
    scheduler.fire(campaign.id, at)
    session.expire_all()
    assert session.get(Campaign, campaign.id).status is CampaignStatus.SENDING  # type: ignore[union-attr]
    assert probe.seen == [False]


def test_the_digest_renders_outside_the_write_lock(
    engine: Engine, session: Session, probe: LockProbe, partners: None
) -> None:
    digest = configure_digest(
        session,
        mailing_list=get_list(session, name="partners"),
        cron="0 9 1 * *",
        auto_send=True,
        timezone="UTC",
    )
    session.add(
        NewsItem(
            category="News",
            title="Storage shared over the dry season",
            summary="Three producer cooperatives pooled their warehouses.",
            published_on=datetime(2026, 3, 4, tzinfo=UTC).date(),
            source="test",
        )
    )
    session.commit()
    scheduler = SchedulerService(
        engine=engine, composer=probe, timezone="UTC", grace=timedelta(hours=1)
    )
    scheduler.build_digest(digest.id, datetime(2026, 4, 1, 9, tzinfo=UTC))
    assert probe.seen == [False, False, False]  # one per language, none under the lock
