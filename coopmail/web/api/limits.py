"""A bound on API request bodies, enforced before anything reads them.

FastAPI reads a whole JSON body into memory before it runs the key check, so without this
anyone, with or without a key, could make the server hold an arbitrarily large upload.
The body is read here up to the bound, then handed on; past it the answer is a 413 in the
API's error shape and the rest is never read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaigns.content import MAX_CONTENT_BYTES
from coopmail.web.api.errors import error_response
from coopmail.web.logs import client_hung_up

# The largest campaign content, every character JSON-escaped (\uXXXX is 6 bytes per
# character, a surrogate pair 12 for two), with room for the other fields.
API_BODY_MAX = 6 * MAX_CONTENT_BYTES + 64 * 1024


class ApiBodyLimit:
    def __init__(self, app: ASGIApp, *, prefix: str, limit: int = API_BODY_MAX) -> None:
        self.app = app
        self.prefix = prefix
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nobody to answer
                client_hung_up(scope["method"], scope["path"])
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:  # sent without a Content-Length, or a false one
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "too_large",
            f"the request body is larger than {self.limit} bytes",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for the app: the messages already read, then the client's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
