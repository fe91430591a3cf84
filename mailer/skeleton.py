"""Encode a campaign's body once, then fill in each recipient's fields for a few µs.

binascii.b2a_qp costs about 6 ns per byte, so encoding 20 KB of bodies takes the whole
per-message budget (150 µs) by itself. The static text between the personal fields is the same for
every recipient: encoded once here, only the fields are encoded per message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mailer.mime import encode_body

_SOFT_BREAK = b"=\r\n"
_QP_LINE = 76

# A value that is its own quoted-printable form and leaves room for a soft break: printable
# ASCII without "=", no blank at either end. Names and tokens usually are.
_AS_IS = re.compile(r"[\x21-\x3c\x3e-\x7e](?:[\x20-\x3c\x3e-\x7e]{0,73}[\x21-\x3c\x3e-\x7e])?")


@dataclass(frozen=True, slots=True)
class BodySkeleton:
    """A body's static segments, quoted-printable encoded, with a gap between each two.

    Pieces are joined with soft line breaks ("=" CRLF), which decode to nothing, so a filled
    skeleton decodes to exactly the joined text while every line stays within 76
    characters. Each segment and value has its line breaks normalised on its own: do not
    split a CRLF pair between a segment and a value.
    """

    segments: tuple[bytes, ...]
    _mid_line: tuple[bool, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mid_line = tuple(bool(segment) and not segment.endswith(b"\n") for segment in self.segments)
        object.__setattr__(self, "_mid_line", mid_line)

    @classmethod
    def prepare(cls, *, segments: Sequence[str]) -> BodySkeleton:
        """The skeleton of `segments[0] + value + segments[1] + ... + segments[-1]`."""
        if not segments:
            raise ValueError("a body skeleton needs at least one segment")
        return cls(segments=tuple(_open_ended(encode_body(segment)) for segment in segments))

    @property
    def gaps(self) -> int:
        """How many values fill() takes."""
        return len(self.segments) - 1

    def fill(self, *, values: Sequence[str]) -> bytes:
        """The encoded body with `values` in the gaps, ready for assemble_encoded."""
        segments = self.segments
        if len(values) != len(segments) - 1:
            raise ValueError(
                f"this body skeleton has {len(segments) - 1} gaps, got {len(values)} values"
            )
        pieces = [segments[0]]
        mid_line = self._mid_line[0]
        for index, value in enumerate(values, 1):
            if value:
                if mid_line:
                    pieces.append(_SOFT_BREAK)
                if _AS_IS.fullmatch(value) is None or value.startswith(("From ", ".")):
                    encoded = _open_ended(encode_body(value))
                    mid_line = not encoded.endswith(b"\n")
                else:
                    encoded = value.encode("ascii")
                    mid_line = True
                pieces.append(encoded)
            segment = segments[index]
            if segment:
                if mid_line:
                    pieces.append(_SOFT_BREAK)
                pieces.append(segment)
                mid_line = self._mid_line[index]
        return b"".join(pieces)


def _open_ended(encoded: bytes) -> bytes:
    """The encoded text with room on its last line for the "=" of a soft line break."""
    start = encoded.rfind(b"\n") + 1
    if len(encoded) - start < _QP_LINE:
        return encoded
    cut = start + _QP_LINE - 3  # never split an =XX escape; the rest cannot be "From "
    if encoded[cut - 1 : cut] == b"=":
        cut -= 1
    elif encoded[cut - 2 : cut - 1] == b"=":
        cut -= 2
    return encoded[:cut] + _SOFT_BREAK + encoded[cut:]
