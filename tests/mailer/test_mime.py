"""assemble: what the email parser reads back is what went in, and nothing can be injected."""

from __future__ import annotations

import binascii
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailer.errors import InvalidBody, InvalidHeader
from mailer.headers import encode_header, format_address, format_date, make_message_id
from mailer.mime import assemble, encode_body, make_boundary
from tests.mailer.reading import crlf, parse

MIXED = "Coopérative, 協同組合, تعاونية"
TEXT = f"Dear member,\n\nNews of the {MIXED}.\nFrom here on, it is spring.\n.\nBye  \n"
HTML = (
    '<table role="presentation" style="width:100%;border-collapse:collapse">'
    f'<tr><td style="padding:12px;font-family:Arial,sans-serif">{MIXED}</td></tr></table>\n'
)

# Lines in a body: ordinary text and everything quoted-printable must be careful about.
BODY_TEXT = st.lists(
    st.one_of(
        st.text(max_size=120).filter(lambda text: not any(0xD800 <= ord(c) < 0xE000 for c in text)),
        st.sampled_from(["From ", "From", ".", "..", "=", " ", "\t", "\n", "\r\n", "\r", "é"]),
        st.integers(min_value=60, max_value=200).map(lambda size: "x" * size),
    ),
    max_size=30,
).map("".join)


def headers(subject: str = "March newsletter") -> list[tuple[str, str]]:
    return [
        ("From", format_address(name="Cooperatives Unit", address="coop@example.org")),
        ("To", format_address(name=MIXED, address="anne@example.org")),
        ("Subject", encode_header(name="Subject", value=subject)),
        ("Date", format_date()),
        ("Message-ID", make_message_id(domain="example.org")),
        # Structured ASCII values are passed as they are, folded by the caller if long.
        ("List-Unsubscribe", "<https://example.org/u/abc>,\r\n <mailto:unsubscribe@example.org>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


def build(text: str = TEXT, html: str = HTML, **changes: str) -> bytes:
    return assemble(headers=headers(**changes), text=text, html=html, boundary=make_boundary())


def body_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")


def test_the_message_is_multipart_alternative_with_html_last() -> None:
    message = parse(build())
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert not message.defects and not any(part.defects for part in parts)


def test_the_parts_decode_to_the_inputs() -> None:
    message = parse(build(subject=MIXED))
    text, html = (part.get_content() for part in message.iter_parts())
    assert text == crlf(TEXT)  # a decoded text part has CRLF line breaks
    assert html == crlf(HTML)
    assert str(message["Subject"]) == MIXED
    assert message["To"].addresses[0].display_name == MIXED


def test_headers_are_written_in_the_order_given() -> None:
    message = parse(build())
    names = [name for name, _ in headers()]
    assert message.keys() == [*names, "MIME-Version", "Content-Type"]


def test_every_line_ends_with_crlf_and_stays_short() -> None:
    data = build()
    assert data.count(b"\n") == data.count(b"\r\n") and data.count(b"\r") == data.count(b"\r\n")
    assert data.endswith(b"--\r\n")
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))


def test_a_60000_character_html_line_is_wrapped_and_read_back() -> None:
    html = "".join(
        f'<td style="padding:4px;color:#333">{index} é {MIXED}</td>' for index in range(1000)
    )
    html = html[:60_000]
    assert len(html) == 60_000 and "\n" not in html
    data = build(html=html)
    assert max(len(line) for line in body_lines(data)) <= 76
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert list(parse(data).iter_parts())[1].get_content() == html


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "Hello\r\nBcc: victim@example.org"),
        ("Subject", "Hello\nBcc: victim@example.org"),
        ("Subject", "Hello\rBcc: victim@example.org"),
        ("Subject", "Hello\x00"),
        ("Subject", "Hello\x1b"),
        ("Subject", "Hello\r\n"),
        ("Subject", "Hello\r\n \r\n world"),
        ("Subject", "Coopérative"),
        ("Subject\r\nBcc: x", "Hello"),
        ("Subject\nBcc", "Hello"),
        ("Sub ject", "Hello"),
        ("Subject:", "Hello"),
        ("", "Hello"),
        ("Bcc\x00", "x"),
        ("Content-Type", "text/plain"),
        ("mime-version", "1.0"),
        ("X-Long", "x" * 1000),
    ],
)
def test_malformed_and_injected_headers_are_refused(name: str, value: str) -> None:
    good = headers()
    with pytest.raises(InvalidHeader) as caught:
        assemble(headers=[*good, (name, value)], text="t", html="h", boundary=make_boundary())
    assert "\n" not in str(caught.value)


def test_proper_folds_are_accepted() -> None:
    value = "first part\r\n second part\r\n\tthird part"
    message = parse(
        assemble(headers=[("X-Folded", value)], text="t", html="h", boundary=make_boundary())
    )
    assert message["X-Folded"] == "first part second part\tthird part"


@pytest.mark.parametrize("boundary", ["", "simple", "=_" + "x" * 69, "=_with space", '=_"quote"'])
def test_unsafe_boundaries_are_refused(boundary: str) -> None:
    with pytest.raises(InvalidHeader):
        assemble(headers=headers(), text="t", html="h", boundary=boundary)


def test_boundaries_are_random_and_cannot_occur_in_quoted_printable() -> None:
    boundaries = {make_boundary() for _ in range(1000)}
    assert len(boundaries) == 1000
    assert all("=_" in boundary and len(boundary) <= 70 for boundary in boundaries)


def test_lines_that_mean_something_to_smtp_or_mbox_are_encoded() -> None:
    text = (
        "From the board\n.\nsecond " + "x" * 68 + "From here on\n" + "y" * 75 + "From " + "z" * 80
    )
    encoded = encode_body(text)
    lines = encoded.split(b"\r\n")
    assert not any(line.startswith(b"From ") or line == b"." for line in lines)
    assert max(map(len, lines)) <= 76
    assert binascii.a2b_qp(encoded).decode("utf-8") == crlf(text)


@pytest.mark.parametrize("blank", [" ", "\t"])
@pytest.mark.parametrize("length", [72, 73, 74, 75, 76])
def test_a_blank_before_a_line_break_stays_within_76(blank: str, length: int) -> None:
    # binascii.b2a_qp writes such a blank as =20 after deciding where to wrap: 77-78 chars.
    text = "x" * length + blank + "\n" + "From " + "y" * (length - 5) + blank + "\nend"
    encoded = encode_body(text)
    assert max(len(line) for line in encoded.split(b"\r\n")) <= 76
    assert binascii.a2b_qp(encoded).decode("utf-8") == crlf(text)


def test_an_undecodable_body_is_refused() -> None:
    with pytest.raises(InvalidBody, match="surrogate"):
        encode_body("caf\udce9")


@settings(max_examples=400, deadline=None)
@given(text=BODY_TEXT)
@example(text="x" * 75 + "From " + "y" * 70)
@example(text="x" * 76 + "\n.\n" + "trailing \t")
def test_any_body_encodes_safely_and_decodes_back(text: str) -> None:
    encoded = encode_body(text)
    assert encoded.isascii()
    assert b"\n" not in encoded.replace(b"\r\n", b"") and b"\r" not in encoded.replace(b"\r\n", b"")
    lines = encoded.split(b"\r\n")
    for line in lines:
        assert len(line) <= 76
        assert not line.startswith(b"From ") and line != b"."
        assert not line.endswith((b" ", b"\t"))  # would be stripped in transit
    assert "=_" not in encoded.decode("ascii")
    assert binascii.a2b_qp(encoded).decode("utf-8") == crlf(text)


@settings(max_examples=100, deadline=None)
@given(text=BODY_TEXT, html=BODY_TEXT)
def test_any_bodies_round_trip_through_the_email_parser(text: str, html: str) -> None:
    data = assemble(headers=headers(), text=text, html=html, boundary=make_boundary())
    plain, rich = (part.get_content() for part in parse(data).iter_parts())
    assert plain == crlf(text)
    assert rich == crlf(html)


def test_encoded_headers_from_any_subject_are_accepted() -> None:
    subject = "Spring " * 30 + MIXED * 3
    data = build(subject=subject)
    assert str(parse(data)["Subject"]) == subject
    header_block = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in header_block.split("\r\n"))
    assert re.search(r"^Subject: Spring", header_block, re.MULTILINE)
