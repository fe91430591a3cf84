"""The subscribers search: keyset pages that never skip or repeat a person, filters that
combine, and a bulk walk that survives changing what it walks over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from subscribers.lists import create_list
from subscribers.models import ConsentSource, MailingList, Subscriber, SubscriptionStatus
from subscribers.people import subscribe, unsubscribe
from subscribers.search import PeopleQuery, count_people, search_people, walk_people

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def add(
    session: Session,
    mailing_list: MailingList,
    email: str,
    *,
    status: SubscriptionStatus = SubscriptionStatus.CONFIRMED,
    **extra: object,
) -> int:
    subscribed = subscribe(
        session,
        email=email,
        mailing_list=mailing_list,
        source=ConsentSource.FORM,
        wording="ticked the box",
        status=status,
        **extra,  # type: ignore[arg-type]
    )
    return subscribed.subscriber.id


def every_page(session: Session, query: PeopleQuery, limit: int) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = search_people(session, query=query, after=after, limit=limit)
        seen.extend(row.id for row in page.rows)
        if page.next_after is None:
            return seen
        after = page.next_after


def test_pages_follow_each_other_without_skipping_or_repeating(session: Session) -> None:
    letters = create_list(session, name="letters", title="Letters")
    ids = [add(session, letters, f"person{n:03}@example.org") for n in range(53)]
    for limit in (1, 7, 10, 53, 60):
        assert every_page(session, PeopleQuery(), limit) == sorted(ids, reverse=True)
    by_list = PeopleQuery(list_id=letters.id, status=SubscriptionStatus.CONFIRMED)
    assert every_page(session, by_list, 10) == sorted(ids, reverse=True)
    last = search_people(session, query=PeopleQuery(), limit=53)
    assert last.next_after is None


def test_filters_combine(session: Session) -> None:
    letters = create_list(session, name="letters", title="Letters")
    digest = create_list(session, name="digest", title="Digest")
    lucia = add(
        session,
        letters,
        "lucia@andes.example.org",
        name="Lucía Quispe",
        language="es-PE",
        attributes={"country": "Peru"},
    )
    add(session, digest, "lucia@andes.example.org")
    amara = add(
        session,
        letters,
        "amara@lagos.example.org",
        name="Amara Obi",
        language="en",
        attributes={"country": "Nigeria"},
    )
    pending = add(
        session, letters, "luc@pending.example.org", status=SubscriptionStatus.UNCONFIRMED
    )
    left = add(session, digest, "lucas@left.example.org", name="Lucas Martin", language="fr")
    gone = session.get(Subscriber, left)
    assert gone is not None
    unsubscribe(session, subscriber=gone, lists=None, source=ConsentSource.FORM, wording="")
    session.execute(update(Subscriber).where(Subscriber.id == amara).values(created_at=DAY))
    session.commit()

    def found(**filters: object) -> set[int]:
        query = PeopleQuery(**filters)  # type: ignore[arg-type]
        rows = search_people(session, query=query).rows
        assert count_people(session, query=query).count == len(rows)
        return {row.id for row in rows}

    assert found(text="luc") == {lucia, pending, left}
    assert found(text="LUC", list_id=letters.id) == {lucia, pending}
    assert found(text="luc", list_id=letters.id, status=SubscriptionStatus.CONFIRMED) == {lucia}
    assert found(text="quispe") == {lucia}  # a later word of the name
    assert found(text="uispe") == set()  # words are matched from their start
    assert found(text="lucia@") == {lucia}  # with an @, only addresses
    assert found(text="martin@") == set()
    assert found(status=SubscriptionStatus.UNSUBSCRIBED) == {left}
    assert found(language="es") == {lucia}  # regional variants count
    assert found(language="es-PE", list_id=digest.id) == {lucia}
    assert found(attribute="country", attribute_value="Peru") == {lucia}
    assert found(attribute="country", attribute_value="Peru", language="en") == set()
    assert found(added_before=DAY + timedelta(days=1)) == {amara}
    assert found(added_from=DAY + timedelta(days=1), text="l") == {lucia, pending, left}
    assert found(added_from=DAY + timedelta(days=1), text="amara") == set()
    assert found(text="50%_") == set()  # wildcards are taken literally


def test_the_count_stops_at_its_cap(session: Session) -> None:
    letters = create_list(session, name="letters", title="Letters")
    for n in range(12):
        add(session, letters, f"p{n}@example.org")
    assert count_people(session, query=PeopleQuery(), cap=10).capped
    exact = count_people(session, query=PeopleQuery(), cap=12)
    assert (exact.count, exact.capped) == (12, False)
    assert count_people(session, query=PeopleQuery(), cap=None).count == 12


def test_a_bulk_walk_reaches_everyone_while_it_changes_them(session: Session) -> None:
    letters = create_list(session, name="letters", title="Letters")
    ids = {add(session, letters, f"p{n:02}@example.org") for n in range(25)}
    query = PeopleQuery(list_id=letters.id, status=SubscriptionStatus.CONFIRMED)
    reached: list[int] = []
    for batch in walk_people(session, query=query, batch=4):
        for row in batch:
            person = session.get(Subscriber, row.id)
            assert person is not None
            unsubscribe(
                session, subscriber=person, lists=None, source=ConsentSource.STAFF, wording=""
            )
            reached.append(row.id)
        session.commit()
    assert sorted(reached) == sorted(ids)
    assert count_people(session, query=query).count == 0
