"""CSV export: every row of a list larger than any batch, columns that agree, a re-import
that changes nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from subscribers.exporter import EXPORT_PAGE, export_csv
from subscribers.importer import BATCH_SIZE
from subscribers.lists import create_list
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from tests.conftest import Cli

ROWS = 5_000
assert max(EXPORT_PAGE, BATCH_SIZE) < ROWS  # the whole point: more than one page


def _fill(session: Session, *, rows: int, late_attribute_from: int | None = None) -> None:
    """A list of ``rows`` confirmed subscribers, bulk-inserted (fast on both backends)."""
    mailing_list = create_list(session, name="partners")
    session.flush()
    people = [
        {
            "email": f"p{i:05d}@example.org",
            "name": f"Partner {i}",
            "language": "fr" if i % 2 else "es",
            "attributes": (
                {"country": "Peru", "region": "Andes"}
                if late_attribute_from is not None and i >= late_attribute_from
                else {"country": "Peru"}
            ),
        }
        for i in range(rows)
    ]
    ids = session.scalars(insert(Subscriber).returning(Subscriber.id), people).all()
    session.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": subscriber_id,
                "list_id": mailing_list.id,
                "status": SubscriptionStatus.CONFIRMED,
            }
            for subscriber_id in ids
        ],
    )
    session.commit()


def test_the_cli_exports_every_row_of_a_list_larger_than_a_batch(
    run: Cli, session: Session, tmp_path: Path
) -> None:
    _fill(session, rows=ROWS)
    exported = tmp_path / "partners.csv"
    result = run.ok("subscribers", "export", "--list", "partners", "--output", str(exported))
    assert f"Wrote {ROWS} subscribers" in result.stderr + result.stdout
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert len(rows) == ROWS
    assert [row["email"] for row in rows] == [f"p{i:05d}@example.org" for i in range(ROWS)]

    to_stdout = run.ok("subscribers", "export", "--list", "partners")
    assert to_stdout.stdout == exported.read_text(encoding="utf-8")

    again = run.ok("subscribers", "import", str(exported), "--list", "partners", "--json").json()
    assert (again["unchanged"], again["updated"], again["rejected"]) == (ROWS, 0, 0)


def test_an_attribute_first_seen_on_a_late_page_still_gets_its_column(session: Session) -> None:
    _fill(session, rows=50, late_attribute_from=45)
    mailing_list = session.get_one(Subscription, 1).mailing_list
    output = io.StringIO()
    written = export_csv(session, mailing_list=mailing_list, output=output, page_size=7)
    rows = list(csv.DictReader(io.StringIO(output.getvalue())))
    assert written == len(rows) == 50
    assert [row["region"] for row in rows] == [""] * 45 + ["Andes"] * 5


def test_a_status_filter_pages_through_only_that_status(session: Session) -> None:
    _fill(session, rows=30)
    for subscription in session.query(Subscription).filter(Subscription.subscriber_id % 3 == 0):
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
    session.commit()
    mailing_list = session.get_one(Subscription, 1).mailing_list
    output = io.StringIO()
    written = export_csv(
        session,
        mailing_list=mailing_list,
        output=output,
        status=SubscriptionStatus.UNSUBSCRIBED,
        page_size=4,
    )
    rows = list(csv.DictReader(io.StringIO(output.getvalue())))
    assert written == len(rows) == 10
    assert {row["status"] for row in rows} == {"unsubscribed"}
