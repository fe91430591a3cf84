"""Delivery: exactly once, opt-outs win, faults retried or failed as they should be.

Real parts only: a recording SMTP server on 127.0.0.1 that injects faults, and the real
databases (every test runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.drafts import create_campaign
from campaigns.errors import CampaignStateError
from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryState
from campaigns.outbox import (
    cancel_campaign,
    delivery_counts,
    pause_campaign,
    queue_campaign,
    resume_campaign,
)
from campaigns.worker import DeliveryWorker, Progress, SendingIdentity, WorkerSettings
from coopmail.db import for_writing
from mailer.smtp import SmtpSettings
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus, SuppressionReason
from subscribers.people import find_subscriber, subscribe, unsubscribe
from subscribers.suppressions import find_suppression, suppress
from subscribers.tokens import read_token
from templates import sample_path
from tests.smtp_server import RecordingSmtpServer

KEY = b"delivery-test-key-delivery-test-key"
IDENTITY = SendingIdentity(base_url="https://news.example.org", key=KEY)
FAST = WorkerSettings(
    concurrency=3,
    retry_base=timedelta(milliseconds=50),
    retry_max=timedelta(milliseconds=200),
    poll_interval=0.02,
    until_done=True,
)


def people(session: Session, list_name: str, count: int, *, start: int = 0) -> list[str]:
    mailing_list = create_list(session, name=list_name)
    addresses = [f"partner{i}@coop{i % 7}.example.org" for i in range(start, start + count)]
    for address in addresses:
        subscribe(
            session,
            email=address,
            mailing_list=mailing_list,
            source=ConsentSource.STAFF,
            wording="test",
            status=SubscriptionStatus.CONFIRMED,
            name=f"Partner {address}",
        )
    session.commit()
    return addresses


def letter(session: Session, tmp_path: Path, lists: list[str]) -> Campaign:
    source = tmp_path / "letter.md"
    source.write_text(sample_path("solidarity-letter").read_text())
    campaign = create_campaign(
        session,
        composer=Composer(),
        content=read_content(source),
        default_sender="Cooperatives Unit <coop@example.org>",
        list_names=lists,
    )
    session.commit()
    return campaign


def queue(session: Session, campaign: Campaign) -> int:
    count = queue_campaign(session, campaign=campaign, composer=Composer(), now=datetime.now(UTC))
    session.commit()
    return count


def deliver(
    engine: Engine, server: RecordingSmtpServer, settings: WorkerSettings = FAST, **kwargs: object
) -> Progress:
    worker = DeliveryWorker(
        engine=for_writing(engine),
        smtp=SmtpSettings.from_url(server.url),
        settings=settings,
        identity=IDENTITY,
        **kwargs,
    )  # type: ignore[arg-type]
    return worker.run()


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def test_recipients_are_frozen_once_per_person(session: Session, tmp_path: Path) -> None:
    partners = people(session, "partners", 5)
    people(session, "digest", 3, start=3)  # partner3 and partner4 are on both lists
    suppress(session, email=partners[0], reason=SuppressionReason.BOUNCED)
    unsubscribe(
        session,
        subscriber=find_subscriber(session, email=partners[1]),  # type: ignore[arg-type]
        lists=None,
        source=ConsentSource.FORM,
        wording="bye",
    )
    session.commit()
    campaign = letter(session, tmp_path, ["partners", "digest"])
    assert queue(session, campaign) == 4  # 6 people (2 on both lists), 1 suppressed, 1 gone
    assert campaign.status is CampaignStatus.SENDING and campaign.rendered is not None
    with pytest.raises(CampaignStateError, match="only a draft or scheduled"):
        queue(session, campaign)


def test_every_recipient_gets_exactly_one_message(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 40)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    progress = deliver(engine, smtp_server)
    assert progress.sent == 40
    assert smtp_server.recipients() == dict.fromkeys(addresses, 1)
    session.expire_all()
    assert session.get(Campaign, campaign.id).status is CampaignStatus.SENT  # type: ignore[union-attr]
    assert delivery_counts(session, campaign_id=campaign.id)["sent"] == 40

    message = email.message_from_bytes(smtp_server.messages[0].data, policy=email.policy.default)
    https, mailto = (part.strip(" <>") for part in message["List-Unsubscribe"].split(","))
    token = https.rsplit("/", 1)[1]
    assert https.startswith("https://news.example.org/u/")
    assert mailto == f"mailto:coop@example.org?subject=unsubscribe%20{token}"
    subscriber_id, _list_id, campaign_id = read_token(
        key=KEY, purpose="unsubscribe", token=token, count=3
    )
    assert campaign_id == campaign.id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["To"].addresses[0].addr_spec == smtp_server.messages[0].recipients[0]
    assert smtp_server.messages[0].sender == "coop@example.org"
    row = session.scalar(select(Delivery).where(Delivery.subscriber_id == subscriber_id))
    assert row is not None and row.message_id == message["Message-ID"]


def test_an_opt_out_during_the_send_stops_the_next_message(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 30)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    late = addresses[-5:]
    slow = WorkerSettings(concurrency=1, rate_per_second=40, poll_interval=0.02, until_done=True)
    sender = threading.Thread(target=deliver, args=(engine, smtp_server, slow))
    sender.start()
    smtp_server.wait_for(5, timeout=10)
    with Session(for_writing(engine)) as other:
        unsubscribe(
            other,
            subscriber=find_subscriber(other, email=late[0]),
            lists=None,  # type: ignore[arg-type]
            source=ConsentSource.FORM,
            wording="one-click",
        )
        suppress(other, email=late[1], reason=SuppressionReason.COMPLAINED)
        other.commit()
    sender.join(timeout=30)
    received = smtp_server.recipients()
    assert late[0] not in received and late[1] not in received
    assert all(received[address] == 1 for address in addresses if address not in late[:2])
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert (counts["sent"], counts["skipped"]) == (28, 2)


def test_transient_failures_are_retried_until_sent(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 10)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.fail(
        stage="rcpt", code=451, text="4.7.1 try again later", recipient=addresses[2], times=2
    )
    smtp_server.drop(stage="rcpt", times=1)
    smtp_server.fail(stage="data", code=421, text="4.3.0 busy", times=1)
    progress = deliver(engine, smtp_server)
    assert smtp_server.recipients() == dict.fromkeys(addresses, 1)
    assert progress.retrying >= 3
    session.expire_all()
    attempts = {
        d.attempts
        for d in session.scalars(select(Delivery).where(Delivery.campaign_id == campaign.id))
    }
    assert max(attempts) == 3


def test_permanent_failures_fail_and_suppress_per_policy(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 8)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.fail(stage="rcpt", code=550, text="5.1.1 no such user", recipient=addresses[0])
    smtp_server.fail(
        stage="message", code=554, text="5.7.1 content rejected", recipient=addresses[1]
    )
    smtp_server.fail(stage="rcpt", code=550, text="5.7.1 blocked by policy", recipient=addresses[2])
    smtp_server.fail(stage="rcpt", code=551, text="user not local", recipient=addresses[3])
    progress = deliver(engine, smtp_server)
    assert (progress.sent, progress.failed) == (4, 4)
    assert find_suppression(session, email=addresses[0]) is not None  # the address is gone
    assert find_suppression(session, email=addresses[1]) is None  # the content was refused
    assert find_suppression(session, email=addresses[2]) is None  # a policy block, not the address
    assert find_suppression(session, email=addresses[3]) is not None  # no enhanced code: 551
    failed = session.scalars(select(Delivery).where(Delivery.state == DeliveryState.FAILED)).all()
    assert {row.last_code for row in failed} == {550, 551, 554}
    session.expire_all()
    assert session.get(Campaign, campaign.id).status is CampaignStatus.SENT  # type: ignore[union-attr]


def test_a_message_whose_data_was_sent_is_never_sent_again(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 5)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.drop(stage="after_data", times=1)
    deliver(engine, smtp_server)
    delivered = smtp_server.recipients()
    assert len(smtp_server.unacknowledged) == 1
    lost = smtp_server.unacknowledged[0].recipients[0]
    assert lost not in delivered and sum(delivered.values()) == 4
    row = session.scalar(
        select(Delivery)
        .join_from(Delivery, Campaign)
        .where(Delivery.last_code.is_(None))
        .where(Delivery.state == DeliveryState.SENT)
    )
    assert row is not None and "not sent again" in row.last_reply
    assert set(addresses) == set(delivered) | {lost}


def test_an_error_storm_pauses_the_campaign_with_the_reason(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    people(session, "partners", 80)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.fail(stage="mail", code=421, text="4.7.0 too many errors", times=10_000)
    storm = WorkerSettings(
        concurrency=3,
        retry_base=timedelta(hours=1),
        poll_interval=0.02,
        until_done=True,
        storm_min=20,
        storm_window=40,
    )
    progress = deliver(engine, smtp_server, storm)
    session.expire_all()
    paused = session.get(Campaign, campaign.id)
    assert paused is not None and paused.status is CampaignStatus.PAUSED
    assert "paused automatically" in paused.status_reason and "421" in paused.status_reason
    assert progress.paused
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert counts["queued"] > 0 and counts["sending"] == 0  # nothing lost, nothing finished


def test_pause_resume_and_cancel(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    people(session, "partners", 12)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    pause_campaign(session, campaign=campaign, reason="paused by staff")
    session.commit()
    deliver(engine, smtp_server)
    assert not smtp_server.messages  # a paused campaign sends nothing
    resume_campaign(session, campaign=campaign)
    session.commit()
    deliver(engine, smtp_server)
    assert len(smtp_server.messages) == 12
    session.expire_all()
    with pytest.raises(CampaignStateError, match="already sent"):
        cancel_campaign(session, campaign=campaign, now=datetime.now(UTC))

    second = letter(session, tmp_path, ["partners"])
    queue(session, second)
    assert cancel_campaign(session, campaign=second, now=datetime.now(UTC)) == 12
    session.commit()
    deliver(engine, smtp_server)
    assert len(smtp_server.messages) == 12


def test_unreachable_relay_loses_nothing(engine: Engine, session: Session, tmp_path: Path) -> None:
    people(session, "partners", 4)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    stop = threading.Event()
    worker = DeliveryWorker(
        engine=for_writing(engine),
        smtp=SmtpSettings(host="127.0.0.1", port=1, timeout=1),
        settings=WorkerSettings(concurrency=2, retry_base=timedelta(hours=1), poll_interval=0.02),
        identity=IDENTITY,
        stop=stop,
    )
    runner = threading.Thread(target=worker.run)
    runner.start()
    deadline = time.monotonic() + 10
    while worker.progress.retrying < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=10)
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert counts == {"queued": 4, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}


def test_a_refused_sender_pauses_instead_of_failing_everyone(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    people(session, "partners", 10)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.fail(stage="mail", code=553, text="5.7.1 sender not allowed", times=None)
    progress = deliver(engine, smtp_server)
    session.expire_all()
    paused = session.get(Campaign, campaign.id)
    assert paused is not None and paused.status is CampaignStatus.PAUSED
    assert "refused the sender (553" in paused.status_reason
    assert progress.failed == 0
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert counts["queued"] == 10 and counts["failed"] == 0  # nobody's address is blamed


def test_verp_and_dkim_on_the_wire(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from campaigns.envelope import EnvelopeSender
    from mailer.dkim import DkimSigner

    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = DkimSigner(selector="coop2026", domain="example.org", private_key=key)
    identity = SendingIdentity(
        base_url="https://news.example.org",
        key=KEY,
        bounce_address="bounces@example.org",
        verp=True,
        dkim=signer,
    )
    people(session, "partners", 3)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    DeliveryWorker(
        engine=for_writing(engine),
        smtp=SmtpSettings.from_url(smtp_server.url),
        settings=FAST,
        identity=identity,
    ).run()
    envelope = EnvelopeSender(address="bounces@example.org", verp=True, key=KEY)
    record = signer.dns_record().encode()
    rows = {row.id: row for row in session.scalars(select(Delivery))}
    for received in smtp_server.messages:
        delivery_id = envelope.delivery_of(received.sender)
        assert delivery_id in rows  # the bounce address names the exact delivery
        assert received.sender.startswith("bounces+d") and received.sender.endswith("@example.org")
        assert dkim.verify(received.data, dnsfunc=lambda name, timeout=5: record)
        signature = email.message_from_bytes(received.data)["DKIM-Signature"]
        signed = re.search(r"\bh=([^;]+)", "".join(signature.split())).group(1)  # type: ignore[union-attr]
        assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(signed.lower().split(":"))
        assert b"mailto:bounces@example.org?subject=unsubscribe" in received.data
    assert envelope.delivery_of("bounces+d1.0000000000@example.org") is None  # forged
