"""The admin as its tests see it: the application on a test database and a test clock,
staff of every role, and browsers (TestClient) logged in as each; and, for the browser
tests of a campaign's whole life, the whole of `coopmail serve` in this process (web
server, delivery worker, scheduler) with the steps staff take in the studio."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import Campaign, CampaignStatus
from coopmail.config import Settings, load_settings
from coopmail.db import session_scope
from coopmail.delivery import make_worker
from coopmail.scheduling import SchedulerService
from coopmail.staff import accounts, passwords, sessions
from coopmail.staff.models import SessionStage, StaffAccount
from coopmail.staff.roles import Actor, Role
from coopmail.web import WebContext, create_app
from coopmail.web.admin.routes import AdminRoute, admin_router
from subscribers.base import utcnow
from tests.conftest import Clock
from tests.coopmail.staff.conftest import QUICK_HASHER
from tests.smtp_server import RecordingSmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "violet harbour tractor"
SECRET_KEY = "admin-tests-secret-key-0123456789"
BASE_URL = "http://testserver"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Admin:
    """The application, its database and clock, and ways in as anyone."""

    engine: Engine
    settings: Settings
    clock: Clock
    context: WebContext
    app: Any
    base_url: str = BASE_URL

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def routes(self) -> list[AdminRoute]:
        return admin_router(self.context)[1]

    def browser(self, **options: Any) -> TestClient:
        """A new browser: no cookies."""
        return TestClient(self.app, base_url=self.base_url, **options)

    @property
    def cookie_name(self) -> str:
        return "__Host-coopmail-admin" if self.base_url.startswith("https") else "coopmail-admin"

    def create(
        self, email: str, role: Role = Role.ADMIN, *, password: str | None = PASSWORD, **extra: Any
    ) -> int:
        with session_scope(self.engine) as session:
            account = accounts.create_account(
                session,
                actor=Actor.system(),
                email=email,
                role=role,
                password=password,
                now=self.clock(),
                **extra,
            )
            return account.id

    def token_for(self, email: str, stage: SessionStage = SessionStage.ACTIVE) -> str:
        """A session for the account started as a login would, without the password's cost."""
        with session_scope(self.engine) as session:
            account = accounts.find_account(session, reference=email)
            return sessions.start_session(
                session,
                account=account,
                stage=stage,
                ip="testclient",
                user_agent="pytest",
                now=self.clock(),
            ).token

    def signed_in(self, email: str) -> TestClient:
        browser = self.browser()
        browser.cookies.set(self.cookie_name, self.token_for(email))
        return browser

    def log_in(self, browser: TestClient, email: str, password: str = PASSWORD) -> Any:
        """Through the login form, as a person does."""
        page = browser.get("/admin/login")
        return browser.post(
            "/admin/login",
            data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )

    def post(self, browser: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
        """Submit a form of ``page`` to ``action`` with the page's CSRF token."""
        token = csrf_of(browser.get(page).text)
        return browser.post(action, data={**data, "csrf_token": token}, follow_redirects=False)

    def account(self, email: str) -> StaffAccount:
        with self.session() as session:
            return accounts.find_account(session, reference=email)


def make_admin(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    base_url: str = BASE_URL,
    **extra: str,
) -> Admin:
    settings = load_settings(
        environ={
            "COOPMAIL_DATABASE_URL": database_url,
            "COOPMAIL_SECRET_KEY": SECRET_KEY,
            "COOPMAIL_BASE_URL": base_url,
            **extra,
        },
        cwd=tmp_path,
    )
    context = WebContext(engine=engine, settings=settings, composer=Composer(), clock=clock)
    return Admin(
        engine=engine,
        settings=settings,
        clock=clock,
        context=context,
        app=create_app(context=context),
        base_url=base_url,
    )


@pytest.fixture(autouse=True)
def _quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id at a cost the shared test machine affords (see tests/coopmail/staff)."""
    monkeypatch.setattr(passwords, "HASHER", QUICK_HASHER)


@pytest.fixture
def admin(engine: Engine, database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Admin]:
    yield make_admin(engine, database_url, tmp_path, clock)


# --- the whole of `coopmail serve`, for a browser --------------------------------------


class WallClock:
    """The real time, as a browser lives it; ``at(moment)`` makes the application believe
    it is ``moment`` for a while (the one step a test cannot wait for in real time)."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None

    def __call__(self) -> datetime:
        return self.pinned if self.pinned is not None else utcnow()

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        self.pinned = moment
        try:
            yield
        finally:
            self.pinned = None


@dataclass
class Serving:
    """What `coopmail serve` runs, each in a thread of this process: uvicorn on a port the
    OS chose, a delivery worker relaying to the recording SMTP server, and (once a test
    starts it) the scheduler."""

    admin: Admin
    smtp: RecordingSmtpServer
    clock: WallClock
    scheduler: SchedulerService
    _stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.admin.base_url

    def start_scheduler(self) -> None:
        self.scheduler.start()
        self._stops.append(self.scheduler.stop)

    def status(self, campaign_id: int) -> CampaignStatus:
        with session_scope(self.admin.engine, write=False) as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            return campaign.status

    def wait_for_status(
        self, campaign_id: int, wanted: CampaignStatus, timeout: float = 90
    ) -> None:
        """Until the campaign reaches ``wanted`` (read from the database, as the pages do)."""
        deadline = time.monotonic() + timeout
        while (found := self.status(campaign_id)) is not wanted:
            if time.monotonic() > deadline:
                raise AssertionError(f"campaign {campaign_id} is {found}, not {wanted}")
            time.sleep(0.1)

    def latest_campaign(self) -> int:
        with session_scope(self.admin.engine, write=False) as session:
            campaign = session.query(Campaign).order_by(Campaign.id.desc()).first()
            assert campaign is not None
            return campaign.id


@contextmanager
def serving(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> Iterator[Serving]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    # A generous SMTP timeout: a test may hold a reply back while it looks at a page.
    relay = f"{smtp.url}{'&' if '?' in smtp.url else '?'}timeout=120"
    admin = make_admin(
        engine,
        database_url,
        tmp_path,
        Clock(),
        base_url=base_url,
        COOPMAIL_SMTP_URL=relay,
        COOPMAIL_TIMEZONE="Europe/Madrid",
        COOPMAIL_DATA_DIR=str(tmp_path / "data"),
    )
    clock = WallClock()
    admin.context.clock = clock
    scheduler = SchedulerService(
        engine=engine,
        composer=admin.context.composer,
        timezone=admin.settings.timezone,
        grace=timedelta(minutes=10),
        sender=admin.settings.from_address,
        sync_every=0.2,
    )
    serve = Serving(admin=admin, smtp=smtp, clock=clock, scheduler=scheduler)
    server = uvicorn.Server(uvicorn.Config(admin.app, log_level="warning", lifespan="off"))
    web = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    stop = threading.Event()
    worker = make_worker(engine=engine, settings=admin.settings, concurrency=2, stop=stop)
    delivery = threading.Thread(target=worker.run, name="delivery-worker", daemon=True)
    web.start()
    delivery.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not web.is_alive():
            pytest.fail("the web server did not start", pytrace=False)
        time.sleep(0.01)
    try:
        yield serve
    finally:
        smtp.release()
        for stop_part in reversed(serve._stops):
            stop_part()
        stop.set()
        delivery.join(30)
        server.should_exit = True
        web.join(10)
        listener.close()


@pytest.fixture
def smtp() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.fixture
def serve(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> Iterator[Serving]:
    with serving(engine, database_url, tmp_path, smtp) as running:
        yield running


# --- what staff do in the studio, step by step ------------------------------------------


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def upload_image(page: Page, base_url: str, path: Path, alt: str) -> str:
    """Upload an image to the library with its description; its address for campaigns."""
    page.goto(f"{base_url}/admin/media")
    page.set_input_files("#image", str(path))
    page.fill("#alt", alt)
    page.click("form[action='/admin/media'] button[type=submit]")
    page.wait_for_url("**/admin/media?done=image_added")
    return page.locator(".media-item input[readonly]").first.input_value()


def start_campaign(page: Page, base_url: str, *, kind: str, lists: list[str], subject: str) -> None:
    """The studio's new campaign page for ``kind``, its lists ticked and its subject typed."""
    page.goto(f"{base_url}/admin/campaigns/new?kind={kind}")
    for name in lists:
        page.check(f"#list-{name}")
    page.fill("#subject", subject)


def save_draft(page: Page) -> int:
    """Save the studio's form; the new campaign's id, from the page it leads to (the
    draft is created by this Save, or was by the autosave and this Save edits it)."""
    page.click("form#studio button[type=submit]:not([formaction])")
    page.wait_for_url(re.compile(r"/admin/campaigns/\d+\?done=(campaign_created|saved)"))
    found = re.search(r"/admin/campaigns/(\d+)", page.url)
    assert found is not None
    return int(found.group(1))


def mark_for_archive(page: Page, base_url: str, campaign_id: int) -> None:
    page.goto(f"{base_url}/admin/campaigns/{campaign_id}")
    page.click(f"form[action='/admin/campaigns/{campaign_id}/archive'] button")
    page.wait_for_url("**done=archived")


def send_now(page: Page, base_url: str, campaign_id: int, recipients: int) -> None:
    """From the campaign's page, through the confirmation that counts the recipients."""
    page.goto(f"{base_url}/admin/campaigns/{campaign_id}")
    page.click(f"a[href='/admin/campaigns/{campaign_id}/send']")
    page.get_by_role("button", name=f"Send to {recipients} subscribers now").click()
    page.wait_for_url(f"**/admin/campaigns/{campaign_id}/progress?done=queued")
