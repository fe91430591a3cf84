"""Fetching a remote image to check it, for campaigns.media.references (which does no I/O
of its own beyond the files it is pointed at).

Only https, redirects only to https, a bounded number of bytes and seconds, and never an
address inside the unit's own network: the URL comes from staff content (or an API
client), and the server must not be made to probe its neighbours with it. An operator may
name networks inside that are fine to fetch from (``fetch_allowed_networks``: the unit's
own intranet website, say); everything else inside stays refused.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPMessage
from typing import IO
from urllib.parse import urlsplit

from campaigns.media.errors import FetchFailed
from campaigns.media.images import ImageLimits

TIMEOUT_SECONDS = 10.0
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_USER_AGENT = "coopmail image check (+https://github.com/coopmail)"


class _HttpsOnly(urllib.request.HTTPRedirectHandler):
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
        if urlsplit(newurl).scheme != "https":
            raise FetchFailed(url=req.full_url, reason=f"it redirects to {newurl}, not https")
        refuse_private(newurl, allowed=self._allowed)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def image_fetcher(
    *,
    limits: ImageLimits | None = None,
    timeout: float = TIMEOUT_SECONDS,
    opener: urllib.request.OpenerDirector | None = None,
    private_ok: bool = False,
    allowed_networks: Sequence[Network] = (),
) -> Callable[[str], bytes]:
    """A fetcher for ImageContext; ``opener`` and ``private_ok`` are for a test's own
    server (its certificate authority, on the loopback address)."""
    max_bytes = (limits or ImageLimits()).max_bytes
    client = opener or urllib.request.build_opener(_HttpsOnly(allowed_networks))

    def fetch(url: str) -> bytes:
        if urlsplit(url).scheme != "https":
            raise FetchFailed(url=url, reason="only https addresses are fetched")
        if not private_ok:
            refuse_private(url, allowed=allowed_networks)
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})  # noqa: S310 - https only, checked above
        try:
            with client.open(request, timeout=timeout) as answer:
                data: bytes = answer.read(max_bytes + 1)
        except urllib.error.HTTPError as error:
            raise FetchFailed(url=url, reason=f"the server answered {error.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise FetchFailed(url=url, reason=str(reason)) from None
        return data

    return fetch


def refuse_private(url: str, *, allowed: Sequence[Network] = ()) -> None:
    """Refuse a URL whose host resolves to an address inside this network (FetchFailed),
    unless that address is in one of the ``allowed`` networks."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 443)}
    except (socket.gaierror, UnicodeError):
        raise FetchFailed(url=url, reason=f"the name {host} is not known") from None
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global and not any(ip in network for network in allowed):
            raise FetchFailed(url=url, reason=f"{host} is an address inside this network")
