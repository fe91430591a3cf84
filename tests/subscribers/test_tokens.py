"""Signed link tokens: round trip, tamper, wrong key or purpose, expiry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subscribers.tokens import InvalidToken, make_token, read_token

KEY = b"k" * 32


@given(st.tuples(st.integers(0, 2**62), st.integers(0, 2**62)))
def test_round_trip(values: tuple[int, int]) -> None:
    token = make_token(key=KEY, purpose="unsubscribe", values=values)
    assert read_token(key=KEY, purpose="unsubscribe", token=token, count=2) == values
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token


def test_every_kind_of_bad_token_fails_the_same_way() -> None:
    token = make_token(key=KEY, purpose="unsubscribe", values=(7, 3))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    attempts = [
        {"key": b"other" * 8, "purpose": "unsubscribe", "token": token, "count": 2},
        {"key": KEY, "purpose": "preferences", "token": token, "count": 2},
        {"key": KEY, "purpose": "unsubscribe", "token": flipped, "count": 2},
        {"key": KEY, "purpose": "unsubscribe", "token": token[:-3], "count": 2},
        {"key": KEY, "purpose": "unsubscribe", "token": "not a token!", "count": 2},
        {"key": KEY, "purpose": "unsubscribe", "token": token, "count": 1},
    ]
    messages = set()
    for attempt in attempts:
        with pytest.raises(InvalidToken) as caught:
            read_token(**attempt)  # type: ignore[arg-type]
        messages.add(str(caught.value))
    assert messages == {"this link is not valid or has expired"}


def test_expiry() -> None:
    token = make_token(key=KEY, purpose="confirm", values=(1,), issued_at=1_000_000)
    assert read_token(
        key=KEY, purpose="confirm", token=token, count=1, max_age=60, now=1_000_059
    ) == (1,)
    with pytest.raises(InvalidToken):
        read_token(key=KEY, purpose="confirm", token=token, count=1, max_age=60, now=1_000_061)
    undated = make_token(key=KEY, purpose="confirm", values=(1,))
    with pytest.raises(InvalidToken):
        read_token(key=KEY, purpose="confirm", token=undated, count=1, max_age=60, now=1)
