"""Build a complete multipart/alternative message as bytes, without email.message.

EmailMessage costs 1-2 ms per message; at millions of recipients the per-recipient path
must stay within about 150 µs, so bodies go through binascii.b2a_qp and the message is one
bytes join. Even b2a_qp takes about 6 ns a byte: mailer.skeleton encodes a campaign's
static text once, and assemble_encoded takes its output.

Bodies are quoted-printable: it keeps lines within 76 characters whatever the HTML looks
like (CSS inlining makes lines of tens of thousands of characters, and SMTP allows 998),
stays readable, and spam filters treat it as normal for text. Line breaks travel as CRLF,
the canonical form that DKIM body hashes are computed on.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Sequence

from mailer.errors import InvalidBody, InvalidHeader
from mailer.folding import HARD_LINE
from mailer.headers import check_header_name

_QP_LINE = 76

# Written by assemble itself; a second copy from the caller would make the message ambiguous.
_RESERVED = frozenset({"mime-version", "content-type", "content-transfer-encoding"})
_checked_names: set[str] = set()

# Outside printable ASCII and TAB, or CR/LF that is not a fold (CRLF + space or tab), or a
# folded line holding only whitespace.
_BAD_VALUE = re.compile(r"[^\t\r\n\x20-\x7e]|\r(?!\n[ \t])|(?<!\r)\n|\r\n[ \t]*(?=\r|\Z)")
_VALUE_JOINER = "\r\n x"  # a harmless fold: lets one regex search check all values at once

# RFC 2046 bchars without the space; "=_" can never occur in quoted-printable or base64.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}")

_TEXT_PART = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)
_HTML_PART = (
    b'Content-Type: text/html; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)


def make_boundary() -> str:
    """A random multipart boundary; its "=_" cannot occur in a quoted-printable body."""
    return "=_" + secrets.token_hex(16)


def encode_body(text: str) -> bytes:
    """The text as UTF-8 quoted-printable with CRLF line breaks, no line over 76 characters.

    Lines that are just "." or that start with "From " are encoded ("=2E", "=46rom "): an
    SMTP server without dot-stuffing would end the message at the first, and mbox delivery
    would rewrite the second as ">From ", changing the body and breaking its DKIM signature.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidBody(
            f"the body contains an undecodable character (lone surrogate) at position {error.start}"
        ) from None
    # With LF-only input b2a_qp breaks lines with LF (soft breaks too); CRLF comes after.
    encoded = binascii.b2a_qp(data, istext=True)
    if (
        b" \n" in data  # b2a_qp encodes such a blank as =20 after wrapping: 77-78 characters
        or (b"\t" in data and b"\t\n" in data)
        or encoded.startswith(b"From ")
        or b"\nFrom " in encoded
    ):
        encoded = _repair(encoded)
    return encoded.replace(b"\n", b"\r\n")


def assemble(*, headers: Sequence[tuple[str, str]], text: str, html: str, boundary: str) -> bytes:
    """The complete message: headers in the order given, then text/plain, then text/html.

    `headers` are (name, value) pairs whose values are already encoded: ASCII only, folded
    with CRLF + whitespace if at all (what the functions of mailer.headers return).
    MIME-Version and Content-Type are added here. Readers show the last alternative they
    can display, so HTML comes last and the plain text first.
    """
    return assemble_encoded(
        headers=headers, text=encode_body(text), html=encode_body(html), boundary=boundary
    )


def assemble_encoded(
    *, headers: Sequence[tuple[str, str]], text: bytes, html: bytes, boundary: str
) -> bytes:
    """Like assemble, with bodies already quoted-printable (from encode_body or a skeleton).

    The bodies are trusted as given: they must be what encode_body or BodySkeleton.fill
    returned, which is how the expensive encoding can happen once per campaign.
    """
    if _BOUNDARY.fullmatch(boundary) is None or "=_" not in boundary:
        raise InvalidHeader(
            f"{boundary!r} is not a safe boundary: use make_boundary() "
            '(1 to 70 boundary characters, containing "=_")'
        )
    block = _header_block(headers)
    mark = boundary.encode("ascii")
    return b"".join(
        (
            block,
            b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="',
            mark,
            b'"\r\n\r\n--',
            mark,
            b"\r\n",
            _TEXT_PART,
            text,
            b"\r\n--",
            mark,
            b"\r\n",
            _HTML_PART,
            html,
            b"\r\n--",
            mark,
            b"--\r\n",
        )
    )


def _header_block(headers: Sequence[tuple[str, str]]) -> bytes:
    """The header lines as bytes, each name and value checked, in one pass over the values."""
    for name, _ in headers:
        if name not in _checked_names:
            _check_name(name)
    values = [value for _, value in headers]
    if _BAD_VALUE.search(_VALUE_JOINER.join(values)) is not None:
        for name, value in headers:
            _check_value(name, value)
    block = "".join([f"{name}: {value}\r\n" for name, value in headers])
    if len(block) > HARD_LINE:
        for name, value in headers:
            if max(map(len, f"{name}: {value}".split("\r\n"))) > HARD_LINE:
                raise InvalidHeader(f"the {name} header has a line over {HARD_LINE} characters")
    return block.encode("ascii")


def _check_name(name: str) -> None:
    check_header_name(name=name)
    if name.lower() in _RESERVED:
        raise InvalidHeader(f"the {name} header is written by assemble; do not pass it")
    if len(_checked_names) < 256:
        _checked_names.add(name)


def _check_value(name: str, value: str) -> None:
    match = _BAD_VALUE.search(value)
    if match is None:
        return
    found = match.group()
    if not found.isascii():
        problem = "a non-ASCII character: encode it with encode_header or format_address"
    elif "\r" in found or "\n" in found:
        problem = "a line break that is not a fold (CRLF + space), which could inject headers"
    else:
        problem = f"the control character U+{ord(found):04X}"
    raise InvalidHeader(f"the {name} header value contains {problem} at position {match.start()}")


def _repair(encoded: bytes) -> bytes:
    """Encode the F of lines starting with "From " and re-break lines over 76 characters."""
    result: list[bytes] = []
    for original in encoded.split(b"\n"):
        line = original
        while True:
            if line.startswith(b"From "):
                line = b"=46" + line[1:]
            if len(line) <= _QP_LINE:
                break
            cut = _QP_LINE - 3  # leave room for the soft break; never split an =XX escape
            if line[cut - 1 : cut] == b"=":
                cut -= 1
            elif line[cut - 2 : cut - 1] == b"=":
                cut -= 2
            result.append(line[:cut] + b"=")
            line = line[cut:]
        result.append(line)
    return b"\n".join(result)
