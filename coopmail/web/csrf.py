"""CSRF protection for the public forms: a random cookie, and its HMAC in the form.

Double-submit with a signature: a cross-site page can make a browser send our cookie but
cannot read it, and cannot compute the form value without the server's key. Compared in
constant time. The RFC 8058 one-click POST is the one state-changing request without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

FIELD = "csrf_token"
_COOKIE_BYTES = 32
_MAX_AGE = 60 * 60 * 24  # a day: a form left open overnight asks for a reload


class CsrfGuard:
    def __init__(self, *, key: bytes, secure: bool) -> None:
        self._key = key
        self._secure = secure
        # The __Host- prefix pins the cookie to this host and path, over HTTPS only.
        self.cookie = "__Host-coopmail-csrf" if secure else "coopmail-csrf"

    def cookie_value(self, request: Request) -> str:
        """The browser's cookie if it is one of ours in shape, otherwise a new one."""
        value = request.cookies.get(self.cookie, "")
        if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum():
            return value
        return secrets.token_urlsafe(_COOKIE_BYTES)

    def form_token(self, cookie_value: str) -> str:
        return hmac.new(self._key, b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()

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
        cookie = request.cookies.get(self.cookie, "")
        if not cookie or not submitted:
            return False
        return hmac.compare_digest(self.form_token(cookie), submitted)
