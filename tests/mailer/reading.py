"""Reading our output back the way a mail reader would, for the tests to compare with."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from email.message import EmailMessage

from hypothesis import strategies as st

# Text a person could type: no control characters (TAB aside) and no lone surrogates, but
# plenty of whitespace and the characters that mean something in headers.
HEADER_TEXT = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cc", "Cs")),
        st.sampled_from(' \t=?_"\\<>(),.@:;'),
    ),
    max_size=150,
)

_TOKEN = re.compile(
    r'=\?utf-8\?([qb])\?([^?]*)\?=|"((?:[^"\\]|\\.)*)"|([ \t]+)|([^ \t"]+)', re.IGNORECASE
)
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parse_header(name: str, value: str) -> EmailMessage:
    return parse(f"{name}: {value}\r\n\r\n".encode("ascii"))


def decode_phrase(raw: str) -> str:
    """An RFC 2047-conforming reading of a display name: whitespace between two encoded
    words is dropped (section 6.2). Python's address parser keeps it, unlike mail readers."""
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(raw.replace("\r\n", "")):
        encoding, encoded, quoted, blank, atom = match.groups()
        if encoding:
            data = (
                base64.b64decode(encoded)
                if encoding.lower() == "b"
                else binascii.a2b_qp(encoded.encode("ascii"), header=True)
            )
            tokens.append(("encoded", data.decode("utf-8")))
        elif quoted is not None:
            tokens.append(("text", _QUOTED_PAIR.sub(r"\1", quoted)))
        elif blank:
            tokens.append(("blank", blank))
        else:
            tokens.append(("text", atom))
    kept = [
        text
        for index, (kind, text) in enumerate(tokens)
        if not (
            kind == "blank"
            and 0 < index < len(tokens) - 1
            and tokens[index - 1][0] == tokens[index + 1][0] == "encoded"
        )
    ]
    return "".join(kept)


def crlf(text: str) -> str:
    """The text with every line break as CRLF, the form a decoded MIME text part has."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
