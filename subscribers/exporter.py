"""Write a list's subscribers as CSV, in a shape the importer reads back unchanged.

The export reads plain rows in pages keyed on the subscriber id, never ORM objects: it holds
no identity map that could grow with the list or be invalidated mid-stream, and each page is
a short indexed query whatever the list's size. Run it in one read transaction (a snapshot,
see ``coopmail.db.snapshot_scope``) so the header's attribute columns and the rows agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus
from subscribers.spreadsheet import SafeWriter

EXPORT_PAGE = 2000
_FIXED_COLUMNS = (
    "email",
    "name",
    "language",
    "status",
    "subscribed_at",
    "confirmed_at",
    "unsubscribed_at",
)


def export_csv(
    session: Session,
    *,
    mailing_list: MailingList,
    output: IO[str],
    status: SubscriptionStatus | None = None,
    page_size: int = EXPORT_PAGE,
) -> int:
    """Stream the list to ``output``; returns the number of subscribers written.

    Attribute names are gathered in a first pass so every row has the same columns.
    """
    attribute_names: set[str] = set()
    for page in _pages(
        session,
        select(Subscriber.id, Subscriber.attributes),
        mailing_list=mailing_list,
        status=status,
        page_size=page_size,
    ):
        for _, attributes in page:
            attribute_names.update(attributes or {})
    extra = sorted(attribute_names)

    writer = SafeWriter(output)  # no cell a spreadsheet would run as a formula
    writer.writerow([*_FIXED_COLUMNS, *extra])
    written = 0
    columns = select(
        Subscriber.id,
        Subscriber.email,
        Subscriber.name,
        Subscriber.language,
        Subscriber.attributes,
        Subscription.status,
        Subscription.created_at,
        Subscription.confirmed_at,
        Subscription.unsubscribed_at,
    )
    for page in _pages(
        session, columns, mailing_list=mailing_list, status=status, page_size=page_size
    ):
        for row in page:
            attributes = row.attributes or {}
            writer.writerow(
                [
                    row.email,
                    row.name,
                    row.language or "",
                    row.status.value,
                    _iso(row.created_at),
                    _iso(row.confirmed_at),
                    _iso(row.unsubscribed_at),
                    *(attributes.get(name, "") for name in extra),
                ]
            )
        written += len(page)
    return written


def _pages(
    session: Session,
    columns: Select[Any],
    *,
    mailing_list: MailingList,
    status: SubscriptionStatus | None,
    page_size: int,
) -> Iterator[list[Any]]:
    """The list's subscriptions as pages of rows in subscriber-id order (keyset paging:
    every page is an index range scan, page 5,000 as cheap as page 1)."""
    query = (
        columns.join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == mailing_list.id)
        .order_by(Subscriber.id)
        .limit(page_size)
    )
    if status is not None:
        query = query.where(Subscription.status == status)
    last_id = 0
    while True:
        page = list(session.execute(query.where(Subscriber.id > last_id)))
        if not page:
            return
        yield page
        last_id = page[-1].id
        if len(page) < page_size:
            return


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
