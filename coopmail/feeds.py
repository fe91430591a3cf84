"""Reading a news feed for `campaigns.news.import_feed`: from its http(s) address or a file,
size-capped and time-limited, so that the import itself only ever sees bytes.

Read before the import's transaction: a slow feed server must not hold the database. The
admin fetches an address staff typed, so there it refuses addresses inside the unit's own
network (the server must not be made to probe its neighbours); the CLI, run by the
operator on their own machine, may read a feed served next door.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.client import HTTPMessage
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from campaigns.media.errors import FetchFailed
from campaigns.news import FEED_BYTES_MAX, NewsError, read_file
from coopmail.remote_images import Network, refuse_private

FEED_FETCH_TIMEOUT = 20  # seconds


class _StaysOutside(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another http(s) address outside this network (or in
    one of the ``allowed`` networks inside it)."""

    def __init__(self, allowed: Sequence[Network] = ()) -> None:
        super().__init__()
        self._allowed = allowed

    def redirect_request(  # noqa: PLR0917 - urllib's own signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not is_address(newurl):
            raise NewsError(f"cannot fetch {req.full_url}: it redirects to {newurl[:80]}")
        _refuse_inside(newurl, allowed=self._allowed)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def is_address(source: str) -> bool:
    return urlsplit(source).scheme.lower() in ("http", "https")


def read_feed(source: str, *, private_ok: bool = True) -> bytes:
    """A feed's bytes from its http(s) address or a file."""
    if is_address(source):
        return fetch_feed(source, private_ok=private_ok)
    return read_file(Path(source), limit=FEED_BYTES_MAX)


def fetch_feed(
    url: str, *, private_ok: bool = False, allowed_networks: Sequence[Network] = ()
) -> bytes:
    """A feed's bytes from its http(s) address, or a one-line NewsError. Unless
    ``private_ok``, an address inside this network is refused but in ``allowed_networks``."""
    if not is_address(url):
        raise NewsError(f"{url[:80]!r} is not an http:// or https:// address")
    if not private_ok:
        _refuse_inside(url, allowed=allowed_networks)
    guard = [] if private_ok else [_StaysOutside(allowed_networks)]
    opener = urllib.request.build_opener(*guard)
    request = urllib.request.Request(  # noqa: S310  (the scheme is checked: http(s) only)
        url, headers={"User-Agent": "coopmail news import", "Accept": "application/xml, */*"}
    )
    try:
        with opener.open(request, timeout=FEED_FETCH_TIMEOUT) as response:
            data: bytes = response.read(FEED_BYTES_MAX + 1)
    except urllib.error.HTTPError as error:
        raise NewsError(
            f"cannot fetch {url}: the server answered {error.code} {error.reason}"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise NewsError(f"cannot fetch {url}: {reason}") from None
    if len(data) > FEED_BYTES_MAX:
        raise NewsError(f"{url}: the feed is larger than {FEED_BYTES_MAX // 1024**2} MB")
    return data


def _refuse_inside(url: str, *, allowed: Sequence[Network]) -> None:
    try:
        refuse_private(url, allowed=allowed)
    except FetchFailed as error:
        raise NewsError(f"cannot fetch {url}: {error.reason}") from None
