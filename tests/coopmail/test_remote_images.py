"""The shell's fetcher of remote images, against a real TLS server on the loopback."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.request
from collections.abc import Iterator

import pytest
import trustme

from campaigns.media.errors import FetchFailed
from campaigns.media.images import ImageLimits
from coopmail.remote_images import image_fetcher
from tests.campaigns.media.images import png

PICTURE = png()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/a.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PICTURE)
        elif self.path == "/plain":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1/a.png")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ssl.SSLContext]]:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server_context)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", client_context
    finally:
        httpd.shutdown()
        thread.join(5)


def fetcher(server: tuple[str, ssl.SSLContext], **options: object):  # type: ignore[no-untyped-def]
    from coopmail.remote_images import _HttpsOnly

    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=server[1]), _HttpsOnly()
    )
    return image_fetcher(opener=opener, private_ok=True, **options)  # type: ignore[arg-type]


def test_an_image_is_fetched(server: tuple[str, ssl.SSLContext]) -> None:
    assert fetcher(server)(server[0] + "/a.png") == PICTURE


def test_a_missing_image_and_a_redirect_to_http_are_refused(
    server: tuple[str, ssl.SSLContext],
) -> None:
    with pytest.raises(FetchFailed, match="answered 404"):
        fetcher(server)(server[0] + "/gone.png")
    with pytest.raises(FetchFailed, match="not https"):
        fetcher(server)(server[0] + "/plain")


def test_too_many_bytes_are_not_read(server: tuple[str, ssl.SSLContext]) -> None:
    data = fetcher(server, limits=ImageLimits(max_bytes=10))(server[0] + "/a.png")
    assert len(data) == 11  # one more than allowed: the check then says it is too large


def test_addresses_inside_the_network_are_never_fetched(
    server: tuple[str, ssl.SSLContext],
) -> None:
    with pytest.raises(FetchFailed, match="inside this network"):
        image_fetcher()(server[0] + "/a.png")
    with pytest.raises(FetchFailed, match="only https"):
        image_fetcher()("http://www.example.org/a.png")
