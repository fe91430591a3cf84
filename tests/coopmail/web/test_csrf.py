"""CSRF: the form token is bound to a time, and a request the browser says comes from
another site is refused even with a valid token."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from coopmail.web.csrf import CsrfGuard

COOKIE = "c" * 43


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def request(**headers: str) -> Request:
    raw = [(b"cookie", f"coopmail-csrf={COOKIE}".encode())]
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": "https",
            "server": ("news.example.org", 443),
            "path": "/subscribe",
            "headers": raw,
        }
    )


def test_a_token_is_good_for_a_day_and_no_longer() -> None:
    clock = Clock()
    guard = CsrfGuard(key=b"k" * 32, secure=False, origin="https://news.example.org", clock=clock)
    token = guard.form_token(COOKIE)
    assert guard.valid(request(), token)
    clock.now += 24 * 3600 - 1
    assert guard.valid(request(), token)
    clock.now += 2
    assert not guard.valid(request(), token)  # before: valid for ever


def test_a_token_cannot_be_moved_to_another_time() -> None:
    clock = Clock()
    guard = CsrfGuard(key=b"k" * 32, secure=False, origin="https://news.example.org", clock=clock)
    issued, _, signature = guard.form_token(COOKIE).partition(".")
    assert not guard.valid(request(), f"{int(issued) + 3600}.{signature}")
    assert not guard.valid(request(), signature)  # the old, timeless shape


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"sec_fetch_site": "same-origin"}, True),
        ({"sec_fetch_site": "none"}, True),
        ({"sec_fetch_site": "cross-site"}, False),
        ({"sec_fetch_site": "same-site"}, False),  # another host of the same domain
        ({"origin": "https://news.example.org"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "null"}, True),  # what our no-referrer policy makes browsers send
        ({}, True),  # a client that says nothing is left to the token
        ({"sec_fetch_site": "same-origin", "origin": "null"}, True),
    ],
)
def test_where_the_browser_says_the_request_comes_from(
    headers: dict[str, str], allowed: bool
) -> None:
    guard = CsrfGuard(key=b"k" * 32, secure=False, origin="https://news.example.org")
    assert guard.valid(request(**headers), guard.form_token(COOKIE)) is allowed
