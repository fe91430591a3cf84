"""Strict security headers on every response, as an ASGI middleware.

A route may set its own value of any of these (the view-in-browser page needs a looser
Content-Security-Policy for the mail's inline styles and images); the middleware only adds
what is missing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The staff admin runs its own script (one file, from this origin), asks for the progress
# of long work and frames its own campaign previews; nothing else is loosened.
ADMIN_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# A campaign's preview, framed by the admin only: a mail's inline styles and images, never
# a script (and a sandbox of its own, whatever frames it), no form that goes anywhere.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data: 'self'; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox"
)
MAIL_VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HSTS = "max-age=31536000"
_FAILED = "The server failed to answer; the error was logged. Please try again later."


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.defaults = {
            "Content-Security-Policy": PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            # Tokens live in URLs: never send them on to another site.
            "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "no-store",
        }
        if https:
            self.defaults["Strict-Transport-Security"] = _HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 answer is sent from outside this middleware, without
            # these headers; answer here instead, and let the error go on to be logged.
            if not started:
                await PlainTextResponse(_FAILED, status_code=500)(scope, receive, send_with_headers)
            raise
