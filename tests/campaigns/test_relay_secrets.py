"""A relay that quotes the password back in its refusal: the password reaches neither the
delivery's last reply nor `campaigns status` (the worker records what the client redacted)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.models import Delivery
from campaigns.outbox import recent_problems
from campaigns.worker import DeliveryWorker, WorkerSettings
from coopmail.db import for_writing
from tests.campaigns.test_delivery import IDENTITY, letter, people, queue
from tests.smtp_server import RecordingSmtpServer

PASSWORD = "pa$$word-9Zt"


def test_a_quoted_password_is_never_recorded(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 3)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    with RecordingSmtpServer(
        username="unit-sender", password="the-right-one", echo_credentials=True
    ) as server:
        stop = threading.Event()
        worker = DeliveryWorker(
            engine=for_writing(engine),
            smtp=server.settings(password=PASSWORD),
            settings=WorkerSettings(concurrency=1, poll_interval=0.02),
            identity=IDENTITY,
            stop=stop,
        )
        runner = threading.Thread(target=worker.run)
        runner.start()
        deadline = time.monotonic() + 20
        while worker.progress.retrying < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        runner.join(timeout=20)
    session.expire_all()
    replies = [row.last_reply for row in session.scalars(select(Delivery))]
    assert any("Bad credentials [*** ***]" in reply for reply in replies), replies
    assert not any(PASSWORD in reply or "unit-sender" in reply for reply in replies)
    shown = recent_problems(session, campaign_id=campaign.id)
    assert shown and not any(PASSWORD in str(problem) for problem in shown)
