"""Subscribers: search and filter, a person's page with everything held on them, and what
staff do at a person's request: edit, add to or remove from lists, unsubscribe, export
(GDPR access) and erase (GDPR erasure, after a confirmation)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from campaigns.bounces import subscriber_events
from campaigns.overview import subscriber_deliveries
from coopmail.ids import row_id
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from subscribers.errors import AddressSuppressed, InvalidField, ListNotFound
from subscribers.lists import get_list
from subscribers.models import ConsentSource, MailingList, Subscriber, SubscriptionStatus
from subscribers.people import (
    SubscriberRow,
    erase_subscriber,
    personal_data,
    subscribe,
    unsubscribe,
    update_subscriber,
)
from subscribers.search import PeopleQuery, count_people, search_people

ADDED_BY_STAFF = "Added by staff at the person's request"
UNSUBSCRIBED_BY_STAFF = "Unsubscribed by staff at the person's request"


@dataclass(frozen=True, kw_only=True)
class PeopleFilter:
    """The subscribers page's filters as the query string carries them."""

    text: str = ""
    attribute: str = ""
    value: str = ""
    list_name: str = ""
    status: str = ""
    language: str = ""
    added_from: str = ""  # YYYY-MM-DD, a day in the unit's time zone
    added_to: str = ""  # inclusive

    @classmethod
    def of(cls, visit: Visit) -> PeopleFilter:
        """The filters of the page's query string."""
        return cls.read(visit.query)

    @classmethod
    def read(cls, value: Callable[[str, int], str]) -> PeopleFilter:
        """The filters from ``value(name, limit)``: the query string, or a form's fields
        (a bulk action carries the filter it applies to)."""
        statuses = {s.value for s in SubscriptionStatus}
        status = value("status", 20)
        return cls(
            text=value("q", 200).strip(),
            attribute=value("attribute", 100).strip(),
            value=value("value", 200).strip(),
            list_name=value("list", 100),
            status=status if status in statuses else "",
            language=value("language", 35).strip(),
            added_from=_day(value("from", 10)),
            added_to=_day(value("to", 10)),
        )

    def as_query_string(self) -> dict[str, str]:
        """The filters as the page's links and forms carry them (empty ones left out)."""
        values = {
            "q": self.text,
            "attribute": self.attribute,
            "value": self.value,
            "list": self.list_name,
            "status": self.status,
            "language": self.language,
            "from": self.added_from,
            "to": self.added_to,
        }
        return {key: value for key, value in values.items() if value}

    def query(self, session: Session, *, zone: ZoneInfo) -> PeopleQuery:
        """The search use case's query; ListNotFound for a list that is not there."""
        mailing_list = get_list(session, name=self.list_name) if self.list_name else None
        return PeopleQuery(
            text=self.text,
            attribute=self.attribute,
            attribute_value=self.value if self.attribute else "",
            list_id=mailing_list.id if mailing_list is not None else None,
            status=SubscriptionStatus(self.status) if self.status else None,
            language=self.language or None,
            added_from=_midnight(self.added_from, zone, days=0),
            added_before=_midnight(self.added_to, zone, days=1),
        )


def _day(raw: str) -> str:
    try:
        return date.fromisoformat(raw).isoformat() if len(raw) == 10 else ""
    except ValueError:
        return ""


def _midnight(day: str, zone: ZoneInfo, *, days: int) -> datetime | None:
    if not day:
        return None
    start = datetime.combine(date.fromisoformat(day) + timedelta(days=days), time(), zone)
    return start.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class Listing:
    rows: list[SubscriberRow]
    total: int
    capped: bool  # there are more than ``total``
    next_cursor: str | None


def find_people(
    session: Session, *, filters: PeopleFilter, cursor: str | None, zone: ZoneInfo
) -> Listing:
    """The one place the subscribers page asks for a page of people: the cursor is opaque
    to the page (today the keyset's last id), so the search behind it can change without
    the page noticing."""
    query = filters.query(session, zone=zone)
    page = search_people(session, query=query, after=row_id(cursor) if cursor else None)
    counted = count_people(session, query=query)
    return Listing(
        rows=page.rows,
        total=counted.count,
        capped=counted.capped,
        next_cursor=str(page.next_after) if page.next_after is not None else None,
    )


class SubscriberPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def search_page(self, visit: Visit) -> Response:
        filters = PeopleFilter.of(visit)
        with self.site.context.session(write=False) as session:
            lists = list(session.scalars(select(MailingList).order_by(MailingList.title)))
            list_choices = [(ml.name, ml.title) for ml in lists]
            try:
                listing = find_people(
                    session, filters=filters, cursor=visit.query("after"), zone=self.site.pages.zone
                )
            except ListNotFound:
                listing = Listing(rows=[], total=0, capped=False, next_cursor=None)
        return self.site.render(
            visit,
            "subscribers.html",
            filters=filters,
            lists=list_choices,
            statuses=[s.value for s in SubscriptionStatus],
            listing=listing,
            request_after=bool(visit.query("after")),
            query=filters.as_query_string(),
        )

    # --- one person ----------------------------------------------------------------------

    def _subscriber(self, session: Session, visit: Visit) -> Subscriber | None:
        subscriber_id = visit.path_id("subscriber_id")
        return None if subscriber_id is None else session.get(Subscriber, subscriber_id)

    def person_page(self, visit: Visit) -> Response:
        return self._person(visit)

    def _person(
        self, visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        with self.site.context.session(write=False) as session:
            subscriber = self._subscriber(session, visit)
            if subscriber is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            data = personal_data(session, email=subscriber.email)
            bounces = subscriber_events(session, subscriber_id=subscriber.id)
            deliveries = subscriber_deliveries(session, subscriber_id=subscriber.id)
            lists = list(session.scalars(select(MailingList).order_by(MailingList.title)))
            active = {s["list"] for s in data["subscriptions"] if s["status"] != "unsubscribed"}
            joinable = [(ml.name, ml.title) for ml in lists if ml.name not in active]
            titles = {ml.name: ml.title for ml in lists}
            subscriber_id = subscriber.id
        return self.site.render(
            visit,
            "subscriber.html",
            status=status,
            subscriber_id=subscriber_id,
            data=data,
            bounces=bounces,
            deliveries=deliveries,
            joinable=joinable,
            titles=titles,
            errors=errors or {},
        )

    def edit(self, visit: Visit) -> Response:
        keys = visit.fields("attribute_key", 100)
        values = visit.fields("attribute_value", 1000)
        attributes: dict[str, str | None] = {}
        for key, value in zip(keys, values, strict=False):
            if key.strip():
                attributes[key.strip()] = value if value.strip() else None
        try:
            with self.site.context.session() as session:
                subscriber = self._subscriber(session, visit)
                if subscriber is None:
                    return self.site.pages.problem(visit, status=404, problem="not_found")
                update_subscriber(
                    session,
                    subscriber=subscriber,
                    name=visit.field("name", 300),
                    language=visit.field("language", 50),
                    attributes=attributes,
                )
                self.site.record(
                    session,
                    visit,
                    "subscriber.changed",
                    target_type="subscriber",
                    target_id=subscriber.id,
                    details={"fields": sorted({"name", "language", *attributes})},
                )
                subscriber_id = subscriber.id
        except InvalidField:
            return self._person(
                visit, status=400, errors={"edit": self.site.pages.say(visit, words.FIELD_INVALID)}
            )
        return self.site.redirect(f"/admin/subscribers/{subscriber_id}", done="saved")

    def add_to_list(self, visit: Visit) -> Response:
        wording = visit.field("consent", 1000).strip()
        if not wording:
            return self._person(
                visit,
                status=400,
                errors={"add": self.site.pages.say(visit, words.CONSENT_NEEDED)},
            )
        try:
            with self.site.context.session() as session:
                subscriber = self._subscriber(session, visit)
                if subscriber is None:
                    return self.site.pages.problem(visit, status=404, problem="not_found")
                mailing_list = get_list(session, name=visit.field("list", 100))
                subscribe(
                    session,
                    email=subscriber.email,
                    mailing_list=mailing_list,
                    source=ConsentSource.STAFF,
                    wording=wording,
                    status=SubscriptionStatus.CONFIRMED,
                )
                self.site.record(
                    session,
                    visit,
                    "subscriber.subscribed",
                    target_type="subscriber",
                    target_id=subscriber.id,
                    details={"list": mailing_list.name},
                )
                subscriber_id = subscriber.id
        except ListNotFound:
            return self._person(
                visit, status=400, errors={"add": self.site.pages.say(visit, words.CHOOSE_LIST)}
            )
        except AddressSuppressed:
            return self._person(
                visit, status=409, errors={"add": self.site.pages.say(visit, words.SUPPRESSED)}
            )
        except InvalidField:
            return self._person(
                visit, status=400, errors={"add": self.site.pages.say(visit, words.FIELD_INVALID)}
            )
        return self.site.redirect(f"/admin/subscribers/{subscriber_id}", done="subscribed")

    def unsubscribe(self, visit: Visit) -> Response:
        name = visit.field("list", 100)
        with self.site.context.session() as session:
            subscriber = self._subscriber(session, visit)
            if subscriber is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            lists = None
            if name:
                try:
                    lists = [get_list(session, name=name)]
                except ListNotFound:
                    return self.site.pages.problem(visit, status=404, problem="not_found")
            changed = unsubscribe(
                session,
                subscriber=subscriber,
                lists=lists,
                source=ConsentSource.STAFF,
                wording=UNSUBSCRIBED_BY_STAFF,
            )
            if changed:
                self.site.record(
                    session,
                    visit,
                    "subscriber.unsubscribed",
                    target_type="subscriber",
                    target_id=subscriber.id,
                    details={"lists": changed},
                )
            subscriber_id = subscriber.id
        return self.site.redirect(f"/admin/subscribers/{subscriber_id}", done="unsubscribed")

    def export(self, visit: Visit) -> Response:
        with self.site.context.session() as session:
            subscriber = self._subscriber(session, visit)
            if subscriber is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            data = personal_data(session, email=subscriber.email)
            data["bounce_events"] = subscriber_events(session, subscriber_id=subscriber.id)
            self.site.record(
                session,
                visit,
                "subscriber.exported",
                target_type="subscriber",
                target_id=subscriber.id,
            )
            subscriber_id = subscriber.id
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        return Response(
            body.encode("utf-8"),
            media_type="application/json",
            headers={
                "Content-Disposition": (f'attachment; filename="subscriber-{subscriber_id}.json"'),
            },
        )

    def erase_page(self, visit: Visit) -> Response:
        with self.site.context.session(write=False) as session:
            subscriber = self._subscriber(session, visit)
            if subscriber is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            email, subscriber_id = subscriber.email, subscriber.id
        return self.site.render(
            visit, "erase.html", email=email, subscriber_id=subscriber_id, error=None
        )

    def erase(self, visit: Visit) -> Response:
        typed = visit.field("confirm", 300).strip().lower()
        with self.site.context.session() as session:
            subscriber = self._subscriber(session, visit)
            if subscriber is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            email, subscriber_id = subscriber.email, subscriber.id
            if typed != email.lower():
                error = self.site.pages.say(visit, words.ERASE_CONFIRM)
            else:
                error = None
                erase_subscriber(session, email=email)
                self.site.record(
                    session,
                    visit,
                    "subscriber.erased",
                    target_type="subscriber",
                    target_id=subscriber_id,
                )
        if error is not None:
            return self.site.render(
                visit,
                "erase.html",
                status=400,
                email=email,
                subscriber_id=subscriber_id,
                error=error,
            )
        return self.site.redirect("/admin/subscribers", done="erased")
