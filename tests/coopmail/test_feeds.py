"""Reading a feed over http(s) for the news import: a size cap, one-line errors, and no
address inside the network when staff typed it in the admin."""

from __future__ import annotations

import io
import ipaddress
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session

import coopmail.feeds
from campaigns.news import NewsError, import_feed, list_items
from coopmail.feeds import fetch_feed, read_feed
from tests.campaigns.test_news import RSS


@pytest.fixture
def feed_server() -> Iterator[str]:
    """A feed served on 127.0.0.1: /feed.xml is the RSS document, anything else a 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/feed.xml":
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(RSS)))
            self.end_headers()
            self.wfile.write(RSS)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_feed_is_fetched_with_a_size_cap(
    session: Session, feed_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{feed_server}/feed.xml"
    summary = import_feed(session, source=read_feed(url), name=url)
    assert summary.added == 1
    assert list_items(session)[0].source == f"feed:{url}"
    with pytest.raises(NewsError, match="answered 404"):
        read_feed(f"{feed_server}/gone.xml")
    monkeypatch.setattr(coopmail.feeds, "FEED_BYTES_MAX", 100)
    with pytest.raises(NewsError, match="larger than"):
        read_feed(url)


def test_an_address_typed_in_the_admin_never_reaches_inside_the_network(
    feed_server: str,
) -> None:
    with pytest.raises(NewsError, match=r"127\.0\.0\.1 is an address inside this network"):
        fetch_feed(f"{feed_server}/feed.xml")
    with pytest.raises(NewsError, match="not an http:// or https:// address"):
        fetch_feed("file:///etc/passwd")


def test_a_redirect_never_leads_inside_the_network() -> None:
    """A public feed that redirects to a neighbour is refused at the redirect."""
    handler = coopmail.feeds._StaysOutside()
    request = urllib.request.Request("https://feeds.example.org/news.xml")
    for target, message in [
        ("http://127.0.0.1:8080/admin", "127.0.0.1 is an address inside this network"),
        ("file:///etc/passwd", "it redirects to file:///etc/passwd"),
    ]:
        with pytest.raises(NewsError, match=re.escape(message)):
            handler.redirect_request(request, io.BytesIO(), 302, "Found", HTTPMessage(), target)


def test_a_network_the_operator_allowed_is_reached_and_no_other(feed_server: str) -> None:
    allowed = [ipaddress.ip_network("127.0.0.1/32")]
    assert b"Solar cooperatives" in fetch_feed(f"{feed_server}/feed.xml", allowed_networks=allowed)
    handler = coopmail.feeds._StaysOutside(allowed)
    request = urllib.request.Request("https://feeds.example.org/news.xml")
    with pytest.raises(NewsError, match=re.escape("127.0.0.2 is an address inside this network")):
        handler.redirect_request(
            request, io.BytesIO(), 302, "Found", HTTPMessage(), "http://127.0.0.2/admin"
        )
