"""Recording bounces, complaints and mailto unsubscribes against real deliveries (both DBs)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from campaigns.bounces import (
    BouncePolicy,
    Recorded,
    Summary,
    campaign_bounces,
    list_events,
    record_report,
    subscriber_events,
)
from campaigns.envelope import EnvelopeSender
from campaigns.models import BounceEvent, Campaign, Delivery, DeliveryState, SourceFormat
from mailer.bounces import BounceKind, parse_bounce
from subscribers.models import (
    ConsentRecord,
    ConsentSource,
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.people import erase_subscriber
from subscribers.suppressions import find_suppression

SAMPLES = Path(__file__).resolve().parent.parent / "bounces_samples"
KEY = b"bounce-fixture-key-2026"  # the key the samples' VERP addresses and tokens were made with
ENVELOPE = EnvelopeSender(address="bounces@news.example.org", verp=True, key=KEY)
NOW = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)

# delivery (and subscriber) id -> the Message-ID the sample returns
MESSAGE_IDS = {
    1: "<4f1c2a9be0d34a6f9c1e2b3a4d5e6f70.1795969200000@coop.test>",
    2: "<8a7b6c5d4e3f21009f8e7d6c5b4a3928.1795969200001@coop.test>",
    3: "<0b1c2d3e4f5a69788796a5b4c3d2e1f0.1795969200002@coop.test>",
    4: "<c3d4e5f60718293a4b5c6d7e8f901a2b.1795969200003@coop.test>",
    6: "<5e6f708192a3b4c5d6e7f8091a2b3c4d.1795950838000@news.example.org>",
    7: "<7a8b9c0d1e2f30415263748596a7b8c9.1795951870000@news.example.org>",
    8: "<9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f.1795953760000@news.example.org>",
    9: "<1f2e3d4c5b6a79880796a5b4c3d2e1f0.1795956001000@news.example.org>",
    10: "<2a3b4c5d6e7f8091a2b3c4d5e6f70819.1795960690000@news.example.org>",
}
# sample -> (delivery id, kind, suppressed as)
SAMPLE_OUTCOMES = {
    "postfix-unknown-user.eml": (1, BounceKind.HARD, SuppressionReason.BOUNCED),
    "postfix-closed-domain.eml": (2, BounceKind.HARD, SuppressionReason.BOUNCED),
    "postfix-mailbox-full.eml": (3, BounceKind.SOFT, None),
    "postfix-delayed.eml": (4, BounceKind.SOFT, None),
    "exim-failed.eml": (6, BounceKind.HARD, SuppressionReason.BOUNCED),
    "gmail-failed.eml": (7, BounceKind.HARD, SuppressionReason.BOUNCED),
    "outlook-ndr.eml": (8, BounceKind.HARD, SuppressionReason.BOUNCED),
    "exchange-legacy-ndr.eml": (9, BounceKind.HARD, SuppressionReason.BOUNCED),
    "arf-complaint.eml": (10, BounceKind.COMPLAINT, SuppressionReason.COMPLAINED),
}


def email_of(number: int) -> str:
    return f"partner{number}@example.net"


def world(session: Session) -> None:
    """Two lists, ten confirmed people on both, one campaign sent to all of them."""
    session.add_all(
        [
            MailingList(id=1, name="partners", title="Partners"),
            MailingList(id=2, name="news", title="News"),
        ]
    )
    session.add(
        Campaign(
            id=1,
            subject="Letter",
            template="solidarity-letter",
            source_format=SourceFormat.MARKDOWN,
            source_name="letter.md",
            body="Hello",
            from_address="coop@news.example.org",
        )
    )
    session.flush()
    for number in range(1, 11):
        session.add(Subscriber(id=number, email=email_of(number), name="", attributes={}))
        session.flush()
        for list_id in (1, 2):
            session.add(
                Subscription(
                    subscriber_id=number, list_id=list_id, status=SubscriptionStatus.CONFIRMED
                )
            )
        session.add(
            Delivery(
                id=number,
                campaign_id=1,
                subscriber_id=number,
                list_id=1,
                state=DeliveryState.SENT,
                message_id=MESSAGE_IDS.get(number),
            )
        )
    session.commit()


def record(
    session: Session, data: bytes, *, now: datetime = NOW, policy: BouncePolicy | None = None
) -> Recorded:
    recorded = record_report(
        session,
        report=parse_bounce(data=data),
        envelope=ENVELOPE,
        policy=policy or BouncePolicy(),
        now=now,
    )
    session.commit()
    return recorded


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("name", sorted(SAMPLE_OUTCOMES))
def test_each_sample_lands_on_its_delivery(session: Session, name: str) -> None:
    world(session)
    delivery_id, kind, reason = SAMPLE_OUTCOMES[name]
    recorded = record(session, sample(name))
    assert (recorded.kind, recorded.verified, recorded.duplicate) == (kind, True, False)
    event = session.scalars(select(BounceEvent)).one()
    assert (event.delivery_id, event.campaign_id, event.subscriber_id) == (
        delivery_id,
        1,
        delivery_id,
    )
    assert event.email == email_of(delivery_id)  # ours, not whatever the report claims
    assert event.kind is kind
    suppression = find_suppression(session, email=email_of(delivery_id))
    assert (suppression.reason if suppression else None) is reason
    assert event.suppressed is (reason is not None)
    assert count(session, Suppression) == (1 if reason else 0)


def test_reading_everything_twice_changes_nothing(session: Session) -> None:
    world(session)
    names = sorted(path.name for path in SAMPLES.glob("*.eml"))
    first, second = Summary(), Summary()
    for name in names:
        first.add(record(session, sample(name)))
    snapshot = [count(session, model) for model in (BounceEvent, Suppression, ConsentRecord)]
    for name in names:
        second.add(record(session, sample(name), now=NOW + timedelta(days=1)))
    assert [
        count(session, model) for model in (BounceEvent, Suppression, ConsentRecord)
    ] == snapshot
    assert first.as_dict() == {
        "messages": 12,
        "hard": 6,
        "soft": 2,
        "complaints": 1,
        "unsubscribes": 1,
        "unrecognised": 1,
        "ignored": 1,
        "unverified": 0,
        "suppressed": 7,
        "duplicates": 0,
        "truncated": 0,
    }
    assert second.duplicates == 10  # all but the auto-reply and the forged unsubscribe
    assert (second.unrecognised, second.ignored, second.suppressed) == (1, 1, 0)


def soft_bounce(number: int, *, delivery_id: int = 4) -> bytes:
    """The real delayed-mail DSN, made a distinct message by its diagnostic, about the
    delivery its VERP address names."""
    return (
        sample("postfix-delayed.eml")
        .replace(b"Diagnostic-Code: X-Postfix;", b"Diagnostic-Code: X-Postfix; (try %d)" % number)
        .replace(b"bounces+d4.5fa43ce526@coop.test", ENVELOPE.for_delivery(delivery_id).encode())
    )


def later_campaigns(session: Session, *, subscriber_id: int, count: int) -> list[int]:
    """More campaigns sent to one person; the ids of their deliveries."""
    ids = []
    for number in range(2, count + 2):
        session.add(
            Campaign(
                id=number,
                subject=f"Letter {number}",
                template="solidarity-letter",
                source_format=SourceFormat.MARKDOWN,
                source_name="letter.md",
                body="Hello",
                from_address="coop@news.example.org",
            )
        )
        session.flush()
        session.add(
            Delivery(
                id=100 + number,
                campaign_id=number,
                subscriber_id=subscriber_id,
                list_id=1,
                state=DeliveryState.SENT,
            )
        )
        ids.append(100 + number)
    session.commit()
    return ids


def test_soft_bounces_suppress_when_enough_fall_within_the_window(session: Session) -> None:
    world(session)
    deliveries = [4, *later_campaigns(session, subscriber_id=4, count=3)]
    policy = BouncePolicy(soft_limit=3, soft_days=30)
    for number, days in enumerate((40, 20, 1), 1):
        data = soft_bounce(number, delivery_id=deliveries[number - 1])
        assert not record(session, data, now=NOW - timedelta(days=days), policy=policy).suppressed
    assert find_suppression(session, email=email_of(4)) is None  # the first is too old
    last = record(session, soft_bounce(4, delivery_id=deliveries[3]), now=NOW, policy=policy)
    assert last.suppressed
    suppression = find_suppression(session, email=email_of(4))
    assert suppression is not None and suppression.reason is SuppressionReason.BOUNCED
    assert suppression.note == "3 soft bounces within 30 days, last 4.4.1"
    assert count(session, BounceEvent) == 4


def test_the_reports_about_one_message_count_as_one_bounce(session: Session) -> None:
    world(session)
    (other,) = later_campaigns(session, subscriber_id=4, count=1)
    policy = BouncePolicy(soft_limit=2, hard_limit=2)
    delayed = soft_bounce(1)
    given_up = soft_bounce(2).replace(b"Action: delayed", b"Action: failed")
    given_up = given_up.replace(b"Status: 4.4.1", b"Status: 4.4.7")
    for data in (delayed, soft_bounce(3), given_up):  # warnings, then the final failure
        assert not record(session, data, policy=policy).suppressed
    hard = sample("postfix-unknown-user.eml").replace(
        b"bounces+d1.1720b3a460@coop.test", ENVELOPE.for_delivery(4).encode()
    )
    assert not record(session, hard, policy=policy).suppressed  # a first hard bounce
    assert record(session, soft_bounce(4, delivery_id=other), policy=policy).suppressed
    assert count(session, BounceEvent) == 5


def test_bounces_count_for_the_address_they_were_about(session: Session) -> None:
    world(session)
    (other,) = later_campaigns(session, subscriber_id=4, count=1)
    policy = BouncePolicy(soft_limit=2)
    record(session, soft_bounce(1), policy=policy)
    subscriber = session.get(Subscriber, 4)
    assert subscriber is not None
    subscriber.email = "partner4.new@example.net"  # the person moved to a new mailbox
    session.commit()
    assert not record(session, soft_bounce(2, delivery_id=other), policy=policy).suppressed


def test_a_higher_hard_limit_waits_for_the_second_hard_bounce(session: Session) -> None:
    world(session)
    (other,) = later_campaigns(session, subscriber_id=1, count=1)
    policy = BouncePolicy(hard_limit=2)
    assert not record(session, sample("postfix-unknown-user.eml"), policy=policy).suppressed
    again = sample("postfix-unknown-user.eml").replace(
        b"bounces+d1.1720b3a460@coop.test", ENVELOPE.for_delivery(other).encode()
    )
    assert record(session, again, policy=policy).suppressed


def test_a_late_bounce_about_an_erased_person_names_and_suppresses_nobody(
    session: Session,
) -> None:
    world(session)
    erase_subscriber(session, email=email_of(1))
    session.commit()
    # Their delivery (kept for the statistics) still proves the report is about our mail,
    # but not that the address it claims is theirs.
    claimed = sample("postfix-unknown-user.eml").replace(
        b"nosuchuser@coop.test", email_of(2).encode()
    )
    recorded = record(session, claimed)
    assert (recorded.verified, recorded.suppressed, recorded.email) == (True, False, None)
    event = session.scalars(select(BounceEvent)).one()
    assert (event.email, event.subscriber_id, event.delivery_id) == (None, None, 1)
    assert find_suppression(session, email=email_of(2)) is None


def test_a_report_that_proves_nothing_is_recorded_but_suppresses_no_one(
    session: Session,
) -> None:
    world(session)
    # Someone writes a DSN naming a subscriber, with a made-up VERP signature and no original.
    forged = (
        sample("postfix-unknown-user.eml")
        .replace(b"d1.1720b3a460", b"d1.0123456789")
        .replace(b"4f1c2a9be0d34a6f", b"0000000000000000")
        .replace(b"GPolNKJw_vz2bhJGJK-tMV", b"AAAAAAAAAAAAAAAAAAAAAA")
        .replace(b"nosuchuser@coop.test", email_of(3).encode())
    )
    recorded = record(session, forged)
    assert (recorded.kind, recorded.verified, recorded.suppressed) == (
        BounceKind.HARD,
        False,
        False,
    )
    event = session.scalars(select(BounceEvent)).one()
    assert (event.delivery_id, event.email, event.subscriber_id) == (None, email_of(3), 3)
    assert count(session, Suppression) == 0


def test_a_complaint_unsubscribes_from_everything_and_suppresses(session: Session) -> None:
    world(session)
    record(session, sample("arf-complaint.eml"))
    statuses = session.scalars(select(Subscription.status).where(Subscription.subscriber_id == 10))
    assert set(statuses) == {SubscriptionStatus.UNSUBSCRIBED}
    consents = list(session.scalars(select(ConsentRecord).where(ConsentRecord.subscriber_id == 10)))
    assert {(c.source, c.list_id) for c in consents} == {
        (ConsentSource.EMAIL, 1),
        (ConsentSource.EMAIL, 2),
    }
    assert "spam" in consents[0].wording


def test_a_mailto_unsubscribe_leaves_that_list_only(session: Session) -> None:
    world(session)
    recorded = record(session, sample("postfix-unsubscribe-request.eml"))
    assert (recorded.kind, recorded.ignored, recorded.email) == (
        BounceKind.UNSUBSCRIBE,
        False,
        email_of(5),
    )
    rows = dict(
        session.execute(
            select(Subscription.list_id, Subscription.status).where(Subscription.subscriber_id == 5)
        ).all()
    )
    assert rows == {1: SubscriptionStatus.UNSUBSCRIBED, 2: SubscriptionStatus.CONFIRMED}
    consent = session.scalars(select(ConsentRecord).where(ConsentRecord.subscriber_id == 5)).one()
    assert (consent.source, consent.list_id) == (ConsentSource.EMAIL, 1)
    event = session.scalars(select(BounceEvent)).one()
    assert (event.kind, event.delivery_id, event.campaign_id) == (BounceKind.UNSUBSCRIBE, 5, 1)
    assert count(session, Suppression) == 0  # leaving a list is not a bounce


def test_a_forged_unsubscribe_is_ignored_and_not_stored(session: Session) -> None:
    world(session)
    recorded = record(session, sample("postfix-unsubscribe-forged.eml"))
    assert (recorded.kind, recorded.ignored) == (BounceKind.UNSUBSCRIBE, True)
    assert count(session, BounceEvent) == 0
    assert count(session, ConsentRecord) == 0


def test_erasure_takes_the_bounce_events_with_it(session: Session) -> None:
    world(session)
    record(session, sample("postfix-unknown-user.eml"))
    # an unverified report naming an address that belongs to no subscriber
    unlinked = sample("gmail-failed.eml").replace(b"7a8b9c0d1e2f", b"000000000000")
    unlinked = unlinked.replace(b"amina.okafor@example.net", b"someone.else@example.org")
    record(session, unlinked)
    assert {e["email"] for e in list_events(session)} == {email_of(1), "someone.else@example.org"}
    assert subscriber_events(session, subscriber_id=1)[0]["status"] == "5.1.1"

    erase_subscriber(session, email=email_of(1))
    erase_subscriber(session, email="Someone.Else@example.org")
    session.commit()
    assert count(session, BounceEvent) == 0


def test_a_person_sees_what_named_their_address_before_they_subscribed(
    session: Session,
) -> None:
    world(session)
    unlinked = sample("gmail-failed.eml").replace(b"7a8b9c0d1e2f", b"000000000000")
    unlinked = unlinked.replace(b"amina.okafor@example.net", b"newcomer@example.org")
    record(session, unlinked)
    session.add(Subscriber(id=11, email="newcomer@example.org", name="", attributes={}))
    session.commit()
    assert [e["email"] for e in subscriber_events(session, subscriber_id=11)] == [
        "newcomer@example.org"
    ]
    assert subscriber_events(session, subscriber_id=7) == []


def test_campaign_counts_and_the_latest_event(session: Session) -> None:
    world(session)
    for name in ("postfix-unknown-user.eml", "postfix-delayed.eml", "arf-complaint.eml"):
        record(session, sample(name))
    data = campaign_bounces(session, campaign_id=1)
    assert {k: data[k] for k in ("hard", "soft", "complaint", "unsubscribe")} == {
        "hard": 1,
        "soft": 1,
        "complaint": 1,
        "unsubscribe": 0,
    }
    assert data["latest"]["kind"] == "complaint"
    assert list_events(session, campaign_id=2) == []
    assert [e["kind"] for e in list_events(session, email=email_of(4).upper())] == ["soft"]


def test_an_address_todays_rules_refuse_is_recorded_not_suppressed(session: Session) -> None:
    world(session)
    subscriber = session.get(Subscriber, 1)
    assert subscriber is not None
    subscriber.email = "partner1@coop.test"  # stored before .test was refused
    session.commit()
    recorded = record(session, sample("postfix-unknown-user.eml"))
    assert (recorded.kind, recorded.verified, recorded.suppressed) == (BounceKind.HARD, True, False)
    assert count(session, BounceEvent) == 1 and count(session, Suppression) == 0


def race(engine: Engine, *, first_data: bytes, second_data: bytes) -> Recorded:
    """Two `bounces process` on PostgreSQL at once: the second records its message while
    the first has recorded its own but not yet committed; what the second recorded."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer at a time in: two runs cannot race")
    first, second = Session(engine), Session(engine)
    policy = BouncePolicy()
    report = parse_bounce(data=first_data)
    record_report(first, report=report, envelope=ENVELOPE, policy=policy, now=NOW)
    pid = second.scalar(text("SELECT pg_backend_pid()"))
    outcome: dict[str, object] = {}

    def racing() -> None:
        try:
            outcome["recorded"] = record_report(
                second,
                report=parse_bounce(data=second_data),
                envelope=ENVELOPE,
                policy=policy,
                now=NOW,
            )
            second.commit()
        except Exception as error:  # the race lost with a traceback: what the tests catch
            outcome["error"] = error

    thread = threading.Thread(target=racing)
    thread.start()
    # Until the second run waits on the first's uncommitted row (or is done).
    query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
    while thread.is_alive():
        with engine.connect() as connection:
            if connection.scalar(query, {"pid": pid}) == "Lock":
                break
        thread.join(0.05)
    first.commit()
    thread.join()
    first.close()
    second.close()
    assert "error" not in outcome, outcome.get("error")
    recorded = outcome["recorded"]
    assert isinstance(recorded, Recorded)
    return recorded


def test_two_runs_suppressing_one_address_at_once_both_finish(
    engine: Engine, session: Session
) -> None:
    world(session)
    (other,) = later_campaigns(session, subscriber_id=1, count=1)
    again = sample("postfix-unknown-user.eml").replace(
        b"bounces+d1.1720b3a460@coop.test", ENVELOPE.for_delivery(other).encode()
    )
    recorded = race(engine, first_data=sample("postfix-unknown-user.eml"), second_data=again)
    assert (recorded.kind, recorded.verified, recorded.suppressed) == (
        BounceKind.HARD,
        True,
        False,
    )
    assert count(session, Suppression) == 1 and count(session, BounceEvent) == 2


def test_two_runs_reading_the_same_message_record_it_once(engine: Engine, session: Session) -> None:
    world(session)
    data = sample("arf-complaint.eml")
    recorded = race(engine, first_data=data, second_data=data)
    assert (recorded.kind, recorded.duplicate) == (BounceKind.COMPLAINT, True)
    assert count(session, BounceEvent) == 1 and count(session, Suppression) == 1
    assert count(session, ConsentRecord) == 2  # one per list, once


def test_a_returned_message_id_with_a_nul_is_looked_up_safely(session: Session) -> None:
    # Exim returns the original as text, and its Message-ID is looked up in the outbox.
    # PostgreSQL refuses a NUL in a query: such a message used to fail every run, so
    # reading an mbox or IMAP folder stopped at it for good.
    world(session)
    data = sample("exim-failed.eml").replace(b"5e6f708192a3b4c5d6e7f8091a2b3c4d", b"5e6f\x00\x1b")
    data = data.replace(b"bounces+d6.b603f67fd3@", b"bounces@")
    recorded = record(session, data)
    assert (recorded.kind, recorded.verified) == (BounceKind.HARD, True)  # by its token
