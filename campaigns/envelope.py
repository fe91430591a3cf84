"""The envelope sender (Return-Path) of each message, optionally VERP-encoded.

With VERP every message carries its own bounce address, bounces+d1234.5f3a9c@example.org,
so a bounce names the exact delivery even when the remote server mangles the body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_VERP = re.compile(r"\+d(\d+)\.([0-9a-f]{10})@")


@dataclass(frozen=True, kw_only=True)
class EnvelopeSender:
    address: str
    verp: bool
    key: bytes

    def for_delivery(self, delivery_id: int) -> str:
        if not self.verp:
            return self.address
        local, _, domain = self.address.rpartition("@")
        return f"{local}+d{delivery_id}.{self._signature(delivery_id)}@{domain}"

    def delivery_of(self, address: str) -> int | None:
        """The delivery a VERP bounce address names, if it is one of ours and untampered."""
        match = _VERP.search(address)
        if match is None:
            return None
        delivery_id = int(match.group(1))
        return (
            delivery_id
            if hmac.compare_digest(match.group(2), self._signature(delivery_id))
            else None
        )

    def _signature(self, delivery_id: int) -> str:
        digest = hmac.new(self.key, b"verp:%d" % delivery_id, hashlib.sha256).hexdigest()
        return digest[:10]
