"""CSRF protection for the public forms: a random cookie, its HMAC in the form, the origin.

Double-submit with a signature: a cross-site page can make a browser send our cookie but
cannot read it, and cannot compute the form value without the server's key. The value is
bound to the time it was issued and expires with the cookie (a form left open for more
than a day asks for a reload), compared in constant time. Browsers also say where a
request comes from: a POST whose ``Sec-Fetch-Site`` is another site, or whose ``Origin``
is not ours, is refused before the token is even looked at. The RFC 8058 one-click POST
is the one state-changing request without these checks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

FIELD = "csrf_token"
_COOKIE_BYTES = 32
_MAX_AGE = 60 * 60 * 24  # a day: a form left open overnight asks for a reload


_SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site of our own pages, or typed/bookmarked


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, as browsers write the Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class CsrfGuard:
    def __init__(
        self,
        *,
        key: bytes,
        secure: bool,
        origin: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``origin``: the public site's (from the base URL), which every form posts from."""
        self._key = key
        self._secure = secure
        self._origin = origin.lower()
        self._clock = clock
        # The __Host- prefix pins the cookie to this host and path, over HTTPS only.
        self.cookie = "__Host-coopmail-csrf" if secure else "coopmail-csrf"

    def cookie_value(self, request: Request) -> str:
        """The browser's cookie if it is one of ours in shape, otherwise a new one."""
        value = request.cookies.get(self.cookie, "")
        if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
            return value
        return secrets.token_urlsafe(_COOKIE_BYTES)

    def form_token(self, cookie_value: str) -> str:
        """``<issued>.<signature>``: the signature covers the cookie and the time."""
        issued = str(int(self._clock()))
        return f"{issued}.{self._signature(cookie_value, issued)}"

    def _signature(self, cookie_value: str, issued: str) -> str:
        message = b"csrf:" + cookie_value.encode() + b":" + issued.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def set_cookie(self, response: Response, cookie_value: str) -> None:
        response.set_cookie(
            self.cookie,
            cookie_value,
            max_age=_MAX_AGE,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="lax",
        )

    def valid(self, request: Request, submitted: str) -> bool:
        """The request comes from our own pages, with a form token that is ours, for this
        browser's cookie, and less than a day old."""
        if not self.same_origin(request):
            return False
        cookie = request.cookies.get(self.cookie, "")
        issued, _, signature = submitted.partition(".")
        if not cookie or not issued.isdigit() or len(issued) > 12 or not signature:
            return False
        age = self._clock() - int(issued)
        if not -60 <= age <= _MAX_AGE:  # a minute of clock skew between processes
            return False
        return hmac.compare_digest(self._signature(cookie, issued), signature)

    def same_origin(self, request: Request) -> bool:
        """False when the browser says the request comes from another site.

        ``Sec-Fetch-Site`` (every current browser) decides when present. Otherwise a real
        ``Origin`` must be ours; ``Origin: null`` is what browsers send under our own
        ``Referrer-Policy: no-referrer``, and clients that send neither header (old
        browsers, scripts) are left to the token."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site.lower() in _SAME_SITE
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return True
        own = origin_of(str(request.base_url))
        return origin.lower() in (self._origin, own)
