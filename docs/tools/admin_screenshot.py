"""Render the admin's dashboard as docs/images/admin-dashboard.png, the picture in
docs/admin.md. Run it when the admin's pages change:

    .venv/bin/python docs/tools/admin_screenshot.py

It fills a scratch SQLite database with a month of made-up activity (three lists, a few
hundred partners, bounces and complaints, three campaigns), serves the admin on a port of
127.0.0.1 and photographs the dashboard in headless Chromium (Debian's, as the browser
tests use) at 1200 px.
"""

from __future__ import annotations

import random
import socket
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import BounceEvent, Campaign, CampaignStatus, SourceFormat
from coopmail.config import load_settings
from coopmail.db import make_engine, upgrade
from coopmail.staff import accounts
from coopmail.staff.roles import Actor, Role
from coopmail.web import WebContext, create_app
from mailer.bounces import BounceKind
from subscribers.base import utcnow
from subscribers.lists import create_list
from subscribers.models import (
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)

ROOT = Path(__file__).resolve().parents[2]
PICTURE = ROOT / "docs" / "images" / "admin-dashboard.png"
CHROMIUM = "/usr/bin/chromium"
OWNER, PASSWORD = "olga@unit.example.org", "correct horse battery staple"
CAMPAIGNS = [
    ("Solidarity with the weavers of Cusco", CampaignStatus.SENT),
    ("Interview: a dairy cooperative in Rwanda", CampaignStatus.SENT),
    ("The November digest", CampaignStatus.DRAFT),
]


def fill(session: Session, now: datetime) -> None:
    chance = random.Random(4)  # noqa: S311 - made-up figures, the same at every run
    accounts.create_account(
        session,
        actor=Actor.system(),
        email=OWNER,
        role=Role.OWNER,
        now=now,
        password=PASSWORD,
        name="Olga",
    )
    lists = [
        create_list(session, name="partners", title="Letters to partners", public=True),
        create_list(session, name="digest", title="Monthly digest", public=True),
        create_list(session, name="news-fr", title="Nouvelles"),
    ]
    number = 0
    for day in range(30):
        when = now - timedelta(days=29 - day)
        for _ in range(chance.randint(2, 14)):
            number += 1
            person = Subscriber(
                email=f"p{number}@coop{number % 17}.example.org",
                name=f"Partner {number}",
                attributes={},
                created_at=when,
            )
            session.add(person)
            session.flush()
            joined = chance.choice(lists)
            status = chance.choice(
                [SubscriptionStatus.CONFIRMED] * 5
                + [SubscriptionStatus.UNCONFIRMED, SubscriptionStatus.UNSUBSCRIBED]
            )
            session.add(
                Subscription(
                    subscriber_id=person.id, list_id=joined.id, status=status, created_at=when
                )
            )
            actions = [ConsentAction.SUBSCRIBE]
            if status is SubscriptionStatus.UNSUBSCRIBED:
                actions.append(ConsentAction.UNSUBSCRIBE)
            for hours, action in enumerate(actions):
                session.add(
                    ConsentRecord(
                        subscriber_id=person.id,
                        list_id=joined.id,
                        action=action,
                        source=ConsentSource.FORM,
                        wording="ticked the box",
                        created_at=when + timedelta(hours=hours),
                    )
                )
        for each in range(chance.randint(0, 3)):
            kind = chance.choice([BounceKind.HARD, BounceKind.SOFT, BounceKind.COMPLAINT])
            session.add(
                BounceEvent(
                    message_key=f"{day}-{each}".ljust(64, "x"),
                    kind=kind,
                    email=f"gone{day}{each}@example.org",
                    received_at=when,
                )
            )
    for subject, status in CAMPAIGNS:
        session.add(
            Campaign(
                subject=subject,
                template="solidarity-letter",
                source_format=SourceFormat.MARKDOWN,
                source_name="letter.md",
                body="Dear partners",
                from_address="coop@example.org",
                status=status,
            )
        )


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/dashboard.db"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        fill(session, utcnow())
        session.commit()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = load_settings(
        environ={
            "COOPMAIL_DATABASE_URL": url,
            "COOPMAIL_SECRET_KEY": "s" * 32,
            "COOPMAIL_BASE_URL": base,
        },
        cwd=folder,
    )
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{base}/admin/login")
            page.fill("#email", OWNER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            page.screenshot(path=PICTURE)
            browser.close()
    finally:
        server.should_exit = True
    print(f"wrote {PICTURE.relative_to(ROOT)}")  # noqa: T201 - a tool run by hand


if __name__ == "__main__":
    main()
