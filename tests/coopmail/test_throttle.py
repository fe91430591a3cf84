"""The throttle store: sliding windows counted in the database, shared by processes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from coopmail import throttle
from coopmail.db import make_engine, session_scope
from coopmail.throttle import Limit, ThrottleCount, network_key

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
FIVE_A_MINUTE = Limit(name="test-five", limit=5, seconds=60)


def hit(engine: Engine, key: str, at: datetime, limit: Limit = FIVE_A_MINUTE) -> throttle.Verdict:
    with session_scope(engine) as session:
        return throttle.hit(session, limit=limit, key=key, now=at)


def test_a_full_window_refuses_and_says_when_to_come_back(engine: Engine) -> None:
    for second in range(5):
        verdict = hit(engine, "a", T0 + timedelta(seconds=second * 10))
        assert verdict.allowed and verdict.count == second + 1
    refused = hit(engine, "a", T0 + timedelta(seconds=45))
    assert not refused.allowed and refused.count == 5
    # The first event (T0) leaves the window 60 s (and one 1 s bucket) after it.
    assert refused.retry_after == 16
    assert hit(engine, "b", T0 + timedelta(seconds=45)).allowed  # keys are apart
    assert not hit(engine, "a", T0 + timedelta(seconds=60)).allowed
    assert hit(engine, "a", T0 + timedelta(seconds=61)).allowed  # T0's event aged out
    assert not hit(engine, "a", T0 + timedelta(seconds=62)).allowed


def test_refused_events_are_not_counted(engine: Engine) -> None:
    for _ in range(5):
        hit(engine, "a", T0)
    for _ in range(20):
        assert not hit(engine, "a", T0 + timedelta(seconds=30)).allowed
    assert hit(engine, "a", T0 + timedelta(seconds=61)).allowed


def test_record_counts_past_the_limit_and_release_takes_one_back(session: Session) -> None:
    for _ in range(7):
        verdict = throttle.record(session, limit=FIVE_A_MINUTE, key="k", now=T0)
    assert verdict.count == 7 and not verdict.allowed
    throttle.release(session, limit=FIVE_A_MINUTE, key="k", now=T0)
    assert throttle.peek(session, limit=FIVE_A_MINUTE, key="k", now=T0).count == 6
    throttle.clear(session, limit=FIVE_A_MINUTE, key="k")
    assert throttle.peek(session, limit=FIVE_A_MINUTE, key="k", now=T0).allowed


def test_keys_are_stored_as_hashes_and_expired_buckets_purged(session: Session) -> None:
    throttle.record(session, limit=FIVE_A_MINUTE, key="ana@example.org", now=T0)
    throttle.record(
        session, limit=FIVE_A_MINUTE, key="ana@example.org", now=T0 + timedelta(minutes=5)
    )
    rows = list(session.scalars(select(ThrottleCount)))
    assert {row.key_hash for row in rows} == {throttle.key_hash("ana@example.org")}
    assert all("ana" not in row.key_hash for row in rows)
    assert throttle.purge(session, now=T0 + timedelta(minutes=2)) == 1
    assert (
        throttle.peek(
            session, limit=FIVE_A_MINUTE, key="ana@example.org", now=T0 + timedelta(minutes=5)
        ).count
        == 1
    )


def test_long_windows_use_at_most_sixty_buckets_a_key(session: Session) -> None:
    hourly = Limit(name="test-hourly", limit=1000, seconds=3600)
    for minute in range(0, 60):
        for second in (0, 20, 40):
            at = T0 + timedelta(minutes=minute, seconds=second)
            throttle.record(session, limit=hourly, key="k", now=at)
    assert len(list(session.scalars(select(ThrottleCount)))) == 60
    assert (
        throttle.peek(session, limit=hourly, key="k", now=T0 + timedelta(minutes=59)).count == 180
    )


def test_two_processes_share_the_counts(database_url: str) -> None:
    """Two engines on one database stand for two web processes."""
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        for number in range(5):
            assert hit(first if number % 2 else second, "shared", T0).allowed
        assert not hit(first, "shared", T0).allowed
        assert not hit(second, "shared", T0).allowed
    finally:
        first.dispose()
        second.dispose()


def test_racing_processes_never_let_more_than_the_limit_through(database_url: str) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]
    limit = Limit(name="test-race", limit=12, seconds=60)
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def knock(engine: Engine) -> None:
        start.wait()
        for _ in range(5):
            verdict = hit(engine, "contended", T0, limit)
            with lock:
                allowed.append(verdict.allowed)

    threads = [threading.Thread(target=knock, args=(engines[n % 2],)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for engine in engines:
            engine.dispose()
    assert len(allowed) == 40
    assert allowed.count(True) == 12


def test_a_visitor_is_counted_by_address_or_ipv6_network() -> None:
    assert network_key("192.0.2.7") == "192.0.2.7"
    assert (
        network_key("2001:db8:1:2::1") == network_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert network_key("2001:db8:1:3::1") != network_key("2001:db8:1:2::1")
    assert network_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert network_key("testclient") == "testclient"
