"""What happened to the address book day by day: the staff dashboard's figures.

Counted from the consent records, which keep every subscribe, confirmation and unsubscribe
with its time, so the figures need no counters of their own and survive any restart.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.base import utc_day
from subscribers.models import ConsentAction, ConsentRecord


def daily_consent(
    session: Session, *, since: datetime, until: datetime
) -> dict[date, dict[ConsentAction, int]]:
    """Per UTC day in [since, until), how many subscribes, confirmations and unsubscribes
    were recorded; days without any are absent."""
    day = utc_day(ConsentRecord.created_at)
    rows = session.execute(
        select(day, ConsentRecord.action, func.count())
        .where(ConsentRecord.created_at >= since, ConsentRecord.created_at < until)
        .group_by(day, ConsentRecord.action)
    )
    counts: dict[date, dict[ConsentAction, int]] = defaultdict(dict)
    for when, action, count in rows:
        counts[when][ConsentAction(action)] = int(count)
    return dict(counts)
