"""The access log keeps the shape of each request but never a link's token."""

from __future__ import annotations

import logging

import pytest

from coopmail.web.logs import RedactLinkTokens, redacted_path

TOKEN = "AAAAAAAAAAEAAAAAAAAAAQ3xk9c2lE0F3kX7nQ"
API_KEY = "cm_1a2b3c4d_" + "Zx9-_Qw8" * 5  # the shape `coopmail apikeys create` gives


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/p/{TOKEN}", "/p/…"),
        (f"/p/{TOKEN}/export", "/p/…/export"),
        (f"/u/{TOKEN}?lang=fr", "/u/…?lang=fr"),
        (f"/confirm/{TOKEN}", "/confirm/…"),
        (f"/v/{TOKEN}", "/v/…"),
        ("/subscribe?lang=es", "/subscribe?lang=es"),
        ("/api/v1/subscribers?limit=5", "/api/v1/subscribers?limit=5"),
        (f"/assets/{TOKEN}", f"/assets/{TOKEN}"),
        # An API key sent where it does not belong (refused, rightly) is not logged either.
        (f"/api/v1/lists?api_key={API_KEY}", "/api/v1/lists?api_key=cm_…"),
        (f"/api/v1/lists?limit=5&key={API_KEY}&x=1", "/api/v1/lists?limit=5&key=cm_…&x=1"),
        (f"/subscribe/{API_KEY}", "/subscribe/cm_…"),
        (f"/p/{TOKEN}?k={API_KEY}", "/p/…?k=cm_…"),
    ],
)
def test_only_link_tokens_are_cut(path: str, logged: str) -> None:
    assert redacted_path(path) == logged


def test_the_access_line_is_written_without_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "POST", f"/p/{TOKEN}/erase", "1.1", 200),
        None,
    )
    assert RedactLinkTokens().filter(record)
    line = record.getMessage()
    assert TOKEN not in line
    assert line == '203.0.113.7:5123 - "POST /p/…/erase HTTP/1.1" 200'
