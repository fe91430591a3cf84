"""HMAC-signed tokens for the links in mail: unsubscribe, preferences, confirm, view.

A token names its purpose and a few integers (subscriber, list, campaign ids) and, when it
must expire, the time it was issued. Tampered, foreign and unknown tokens all fail the same
way, so a token reveals nothing about why it was refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from subscribers.errors import SubscribersError

_SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach, links stay short
_PURPOSE_MAX = 32


class InvalidToken(SubscribersError):
    def __init__(self) -> None:
        super().__init__("this link is not valid or has expired")


def make_token(
    *, key: bytes, purpose: str, values: tuple[int, ...], issued_at: int | None = None
) -> str:
    """A URL-safe token for ``values``; ``issued_at`` (Unix seconds) makes it expirable."""
    if not purpose or len(purpose) > _PURPOSE_MAX:
        raise ValueError("a token needs a short purpose")
    stamp = -1 if issued_at is None else issued_at
    payload = struct.pack(f">q{len(values)}q", stamp, *values)
    return _encode(payload + _sign(key, purpose, payload))


def read_token(
    *,
    key: bytes,
    purpose: str,
    token: str,
    count: int | None,
    max_age: int | None = None,
    now: float | None = None,
) -> tuple[int, ...]:
    """The ``count`` values a valid token carries (None: however many it was made with,
    at least one), or InvalidToken."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise InvalidToken from None
    # The decoder skips characters outside the alphabet, so many strings decode alike;
    # only the one way of writing each token is accepted.
    if _encode(raw) != token:
        raise InvalidToken
    if count is None:
        count = (len(raw) - _SIGNATURE_BYTES) // 8 - 1
        if count < 1:
            raise InvalidToken
    size = 8 * (count + 1)
    if len(raw) != size + _SIGNATURE_BYTES:
        raise InvalidToken
    payload, signature = raw[:size], raw[size:]
    if not hmac.compare_digest(signature, _sign(key, purpose, payload)):
        raise InvalidToken
    stamp, *values = struct.unpack(f">q{count}q", payload)
    if max_age is not None:
        current = time.time() if now is None else now
        if stamp < 0 or not 0 <= current - stamp <= max_age:
            raise InvalidToken
    return tuple(values)


def _sign(key: bytes, purpose: str, payload: bytes) -> bytes:
    message = purpose.encode("ascii") + b"\x00" + payload
    return hmac.new(key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
