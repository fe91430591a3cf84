"""Erasure leaves neither the address nor the name anywhere in the database: not in relay
replies, suppression notes or bounce reports, not in SQLite's free pages or its log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from campaigns.bounces import BouncePolicy, record_report
from campaigns.envelope import EnvelopeSender
from campaigns.models import BounceEvent, Delivery
from coopmail.db import schema_metadata
from mailer.bounces import parse_bounce
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus, SuppressionReason
from subscribers.people import scrub_personal, subscribe
from subscribers.suppressions import suppress
from tests.campaigns.test_delivery import KEY, deliver, letter, queue
from tests.conftest import Cli
from tests.smtp_server import RecordingSmtpServer

ADDRESS = "amara.quispe@coop-sahel.example.org"
NAME = "Amara Quispe-Diallo"
UNKNOWN_USER = f"5.1.1 <{ADDRESS.upper()}>: User unknown ({NAME})"

STRAY_BOUNCE = f"""From: MAILER-DAEMON@mx.example.net
To: bounces@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <stray-1@mx.example.net>
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {ADDRESS}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{ADDRESS}>: Recipient address rejected

--b--
""".encode()


def database_text(engine: Engine, database_url: str) -> bytes:
    """Everything the database holds, as bytes to search: on SQLite the file, its log
    and its shared memory, byte for byte (free pages included); on PostgreSQL every
    table copied out as text."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(
            candidate.read_bytes()
            for candidate in (path, path.with_name(path.name + "-wal"))
            if candidate.exists()
        )
    chunks: list[bytes] = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in schema_metadata().sorted_tables:
            with cursor.copy(f'COPY "{table.name}" TO STDOUT') as copy:  # type: ignore[attr-defined]
                chunks.extend(bytes(block) for block in copy)
        raw.commit()
    finally:
        raw.close()
    return b"".join(chunks)


def test_erasure_leaves_no_trace_in_the_whole_database(
    engine: Engine,
    database_url: str,
    session: Session,
    run: Cli,
    tmp_path: Path,
) -> None:
    mailing_list = create_list(session, name="partners")
    subscribe(
        session,
        email=ADDRESS,
        mailing_list=mailing_list,
        source=ConsentSource.STAFF,
        wording=f"Added at {NAME}'s request, for {ADDRESS}",
        status=SubscriptionStatus.CONFIRMED,
        name=NAME,
        attributes={"organisation": "Coop Sahel", "contact": ADDRESS},
    )
    session.commit()
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    with RecordingSmtpServer() as server:
        server.fail(stage="rcpt", code=550, text=UNKNOWN_USER, times=None)
        deliver(engine, server)
    suppress(session, email=ADDRESS, reason=SuppressionReason.MANUAL, note=f"{NAME} phoned")
    record_report(
        session,
        report=parse_bounce(data=STRAY_BOUNCE),
        envelope=EnvelopeSender(address="bounces@example.org", key=KEY, verp=False),
        policy=BouncePolicy(),
        now=campaign.created_at,
    )
    session.commit()
    assert ADDRESS.upper() in session.scalar(select(Delivery.last_reply))  # type: ignore[operator]
    assert session.scalar(select(BounceEvent.diagnostic)) is not None
    before = database_text(engine, database_url).lower()
    assert ADDRESS.encode() in before and NAME.lower().encode() in before
    session.rollback()  # no reader in the middle of a transaction: the log can be emptied

    run.ok("subscribers", "erase", ADDRESS, "--yes")

    after = database_text(engine, database_url).lower()
    assert ADDRESS.encode() not in after
    assert NAME.lower().encode() not in after
    assert b"amara.quispe" not in after
    # The campaign's statistics stay: the failed delivery is still counted.
    session.expire_all()
    delivery = session.scalar(select(Delivery))
    assert delivery is not None and delivery.last_code == 550
    assert "[erased]" in delivery.last_reply


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (f"550 <{ADDRESS.upper()}>: unknown", "550 <[erased]>: unknown"),
        (f"for {NAME.lower()} at home", "for [erased] at home"),
        ("550 mailbox unavailable", "550 mailbox unavailable"),
    ],
)
def test_scrubbing_finds_every_spelling(text: str, scrubbed: str) -> None:
    assert scrub_personal(text, email=ADDRESS, name=NAME) == scrubbed
