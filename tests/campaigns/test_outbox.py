"""Leases: a worker on another machine that stops answering is taken over, and says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.models import Delivery, DeliveryState
from campaigns.outbox import Outcome, claim, finish_campaigns, record, take_over
from tests.campaigns.test_delivery import letter, people, queue


def test_an_expired_lease_is_taken_over_and_marked(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 6)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    now = datetime.now(UTC)
    first, _ = claim(
        session, worker="far-away:123:abc", limit=4, now=now, lease=timedelta(seconds=30)
    )
    session.commit()
    assert len(first) == 4
    # another worker can only have the rows nobody holds
    second, _ = claim(session, worker="here:1:def", limit=10, now=now, lease=timedelta(seconds=30))
    assert {row.delivery_id for row in second}.isdisjoint(row.delivery_id for row in first)
    assert len(second) == 2
    session.commit()

    assert take_over(session, now=now + timedelta(seconds=10)) == 0  # the lease still holds
    assert take_over(session, now=now + timedelta(seconds=31)) == 6
    session.commit()
    rows = session.scalars(select(Delivery).where(Delivery.id.in_([r.delivery_id for r in first])))
    for row in rows:
        assert row.state is DeliveryState.QUEUED and row.lease_owner is None
        assert "far-away:123:abc stopped while this message was in flight" in row.last_reply

    # the old owner's late report does not overwrite the new owner's work
    claim(
        session,
        worker="here:1:def",
        limit=10,
        now=now + timedelta(seconds=32),
        lease=timedelta(seconds=30),
    )
    record(
        session,
        worker="far-away:123:abc",
        now=now,
        outcomes=[Outcome(delivery_id=first[0].delivery_id, state=DeliveryState.FAILED)],
    )
    session.commit()
    row = session.get(Delivery, first[0].delivery_id)
    assert row is not None and row.state is DeliveryState.SENDING
    assert row.lease_owner == "here:1:def"
    assert finish_campaigns(session, now=now) == []  # rows are still out: not finished
    session.execute(update(Delivery).values(state=DeliveryState.SENT))
    assert finish_campaigns(session, now=now) == [campaign.id]
