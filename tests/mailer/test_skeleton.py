"""A body skeleton filled per recipient decodes to exactly the text joined the slow way."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.mime import assemble_encoded, encode_body, make_boundary
from mailer.skeleton import BodySkeleton
from tests.mailer.reading import crlf, parse

PIECE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=90),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
    st.sampled_from(["", "From x", ".", "\n", " ", "=", "x" * 75, "x" * 76, "x" * 80]),
)


def interleave(segments: list[str], values: list[str]) -> str:
    joined = [segments[0]]
    for value, segment in zip(values, segments[1:], strict=True):
        joined += (value, segment)
    return "".join(joined)


def test_a_filled_skeleton_is_the_joined_text() -> None:
    skeleton = BodySkeleton.prepare(
        segments=["<p>Dear ", ",</p>\n<p>" + "Coopérative news. " * 20, '<a href="', '">x</a>']
    )
    assert skeleton.gaps == 3
    values = ["Zoë", "", "https://example.org/u/abc?x=1"]
    filled = skeleton.fill(values=values)
    assert max(len(line) for line in filled.split(b"\r\n")) <= 76
    expected = interleave(
        ["<p>Dear ", ",</p>\n<p>" + "Coopérative news. " * 20, '<a href="', '">x</a>'], values
    )
    assert binascii.a2b_qp(filled).decode("utf-8") == crlf(expected)


def test_the_number_of_values_must_match_the_gaps() -> None:
    skeleton = BodySkeleton.prepare(segments=["a", "b"])
    with pytest.raises(ValueError, match="1 gaps, got 2"):
        skeleton.fill(values=["x", "y"])
    with pytest.raises(ValueError, match="at least one"):
        BodySkeleton.prepare(segments=[])


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(PIECE, min_size=1, max_size=6), data=st.data())
def test_any_skeleton_decodes_to_the_joined_text(segments: list[str], data: st.DataObject) -> None:
    values = data.draw(st.lists(PIECE, min_size=len(segments) - 1, max_size=len(segments) - 1))
    filled = BodySkeleton.prepare(segments=segments).fill(values=values)
    lines = filled.split(b"\r\n")
    assert all(len(line) <= 76 and not line.startswith(b"From ") for line in lines)
    assert binascii.a2b_qp(filled).decode("utf-8") == crlf(interleave(segments, values))


def test_skeleton_bodies_assemble_into_a_message() -> None:
    text = BodySkeleton.prepare(segments=["Hello ", ",\nbye\n"])
    html = BodySkeleton.prepare(segments=["<p>Hello ", "</p>"])
    data = assemble_encoded(
        headers=[("Subject", "Hi")],
        text=text.fill(values=["Anne"]),
        html=html.fill(values=["Anne"]),
        boundary=make_boundary(),
    )
    plain, rich = (part.get_content() for part in parse(data).iter_parts())
    assert plain == "Hello Anne,\r\nbye\r\n"
    assert rich == "<p>Hello Anne</p>"
    assert text.fill(values=["Anne"]) != encode_body("Hello Anne,\nbye\n")  # soft breaks differ
