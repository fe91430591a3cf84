"""A whole campaign through a real Postfix relay (STARTTLS, PIPELINING, CHUNKING), the worker
on its default event loop: every recipient once, Postfix's refusal recorded and suppressed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.models import Delivery, DeliveryState
from campaigns.outbox import delivery_counts
from campaigns.worker import DeliveryWorker
from coopmail.db import for_writing
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from subscribers.suppressions import find_suppression
from tests.campaigns.test_delivery import FAST, IDENTITY, letter, people, queue
from tests.postfix_relay import REFUSED, PostfixRelay


def test_a_campaign_through_postfix_reaches_everyone_once(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    postfix_relay: PostfixRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert postfix_relay.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(postfix_relay.ca_file))
    # The relay's recording server lives as long as the module: addresses of this run only.
    addresses = people(session, "partners", 60, start=1000 * len(postfix_relay.target.messages))
    mailing_list = create_list(session, name="also")
    subscribe(
        session,
        email=REFUSED,
        mailing_list=mailing_list,
        source=ConsentSource.STAFF,
        wording="test",
        status=SubscriptionStatus.CONFIRMED,
    )
    session.commit()
    campaign = letter(session, tmp_path, ["partners", "also"])
    queue(session, campaign)

    progress = DeliveryWorker(
        engine=for_writing(engine),
        smtp=postfix_relay.settings(),
        settings=FAST,
        identity=IDENTITY,
    ).run()

    assert (progress.sent, progress.failed) == (60, 1)
    deadline = time.monotonic() + 30
    wanted = set(addresses)
    while set(postfix_relay.target.recipients()) & wanted != wanted:
        assert time.monotonic() < deadline, postfix_relay.log()[-2000:]
        time.sleep(0.05)
    received = postfix_relay.target.recipients()
    assert {address: received[address] for address in addresses} == dict.fromkeys(addresses, 1)
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert (counts["sent"], counts["failed"]) == (60, 1)
    refused = session.scalars(select(Delivery).where(Delivery.state == DeliveryState.FAILED)).one()
    assert refused.last_code == 550 and "5.1.1" in refused.last_reply
    assert find_suppression(session, email=REFUSED) is not None
