"""Header values: injection refused, encoded text and addresses read back unchanged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from email_validator import validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailer.errors import InvalidHeader, MailerError
from mailer.headers import (
    check_header_name,
    check_header_value,
    encode_header,
    format_address,
    format_date,
    format_list_id,
    make_message_id,
    parse_address,
)
from tests.mailer.reading import HEADER_TEXT, decode_phrase, parse_header

MIXED = "Coopérative, 協同組合, تعاونية"
ENCODED_WORD = re.compile(r"=\?utf-8\?[qb]\?[^?\s]*\?=")


def lines_of(name: str, value: str) -> list[str]:
    return f"{name}: {value}".split("\r\n")


def assert_well_formed(name: str, value: str) -> None:
    """ASCII; every line within 998, and within 78 unless one unbreakable word fills it;
    continuation lines start with whitespace and are not blank; encoded words within 75."""
    assert value.isascii()
    lines = lines_of(name, value)
    for index, line in enumerate(lines):
        assert len(line) <= 998
        if len(line) > 78:
            assert len(line.split()) <= (2 if index == 0 else 1), line
        if index:
            assert line[:1] in (" ", "\t") and line.strip(), line
    for word in ENCODED_WORD.findall(value):
        assert len(word) <= 75


# check_header_value


@pytest.mark.parametrize("value", ["Hello", "", "tab\tinside", "Ünïcode 協同組合"])
def test_safe_values_come_back_unchanged(value: str) -> None:
    assert check_header_value(name="Subject", value=value) is value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Subject\r\nBcc: victim@example.org", "line break"),
        ("bare\nline feed", "line break"),
        ("bare\rcarriage return", "line break"),
        ("nul\x00byte", "NUL"),
        ("escape\x1b[0m", "U+001B"),
        ("delete\x7f", "U+007F"),
        ("surrogate \udce9", "surrogate"),
    ],
)
def test_control_characters_are_refused_with_a_clear_message(value: str, words: str) -> None:
    with pytest.raises(InvalidHeader) as caught:
        check_header_value(name="Subject", value=value)
    message = str(caught.value)
    assert "Subject" in message and words in message and "\n" not in message
    assert isinstance(caught.value, MailerError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "name", ["", "Sub ject", "Subject:", "Subject\r\nBcc", "Sübject", "X" * 77]
)
def test_malformed_header_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidHeader):
        check_header_name(name=name)


# encode_header


def test_short_ascii_stays_as_it_is() -> None:
    assert encode_header(name="Subject", value="March newsletter") == "March newsletter"


def test_long_ascii_is_folded_at_whitespace_without_encoding() -> None:
    value = " ".join(f"word{index}" for index in range(100))
    encoded = encode_header(name="Subject", value=value)
    assert "=?" not in encoded
    assert all(len(line) <= 78 for line in lines_of("Subject", encoded))
    assert encoded.replace("\r\n", "") == value


def test_an_unbreakable_ascii_word_stays_within_998() -> None:
    value = "x" * 3000 + " end"
    encoded = encode_header(name="Subject", value=value)
    assert_well_formed("Subject", encoded)
    assert str(parse_header("Subject", encoded)["Subject"]) == value


@pytest.mark.parametrize(
    "value",
    [
        "  leading blanks",
        "trailing blanks  ",
        "\tTabs\tbetween\t",
        " ",
        "two" + " " * 200 + "far words",
        "=?utf-8?q?not_an_encoded_word?=",
        "what?=?",
        MIXED,
        "😀" * 40,
        "é" * 200,
    ],
)
def test_awkward_values_round_trip(value: str) -> None:
    encoded = encode_header(name="Subject", value=value)
    assert_well_formed("Subject", encoded)
    header = parse_header("Subject", encoded)["Subject"]
    assert str(header) == value
    assert not header.defects


def test_only_the_non_ascii_words_are_encoded() -> None:
    encoded = encode_header(name="Subject", value="News from the Coopérative of March")
    assert encoded == "News from the =?utf-8?q?Coop=C3=A9rative?= of March"


def test_q_or_b_whichever_is_shorter() -> None:
    assert encode_header(name="Subject", value="Coopérative").startswith("=?utf-8?q?")
    assert encode_header(name="Subject", value="協同組合").startswith("=?utf-8?b?")


def test_injection_through_encode_header_is_refused() -> None:
    with pytest.raises(InvalidHeader, match="Subject"):
        encode_header(name="Subject", value="Hello\r\nBcc: victim@example.org")


@settings(max_examples=400, deadline=None)
@given(value=HEADER_TEXT, name=st.sampled_from(["Subject", "X-Campaign-Description-Header"]))
@example(value=MIXED, name="Subject")
def test_any_text_round_trips_through_the_email_parser(value: str, name: str) -> None:
    encoded = encode_header(name=name, value=value)
    assert_well_formed(name, encoded)
    header = parse_header(name, encoded)[name]
    assert str(header) == value
    assert not header.defects


# format_address


def test_a_plain_name_stays_readable() -> None:
    value = format_address(name="Cooperatives Unit", address="coop@example.org")
    assert value == "Cooperatives Unit <coop@example.org>"


def test_no_name_gives_the_bare_address() -> None:
    assert format_address(name="  ", address="coop@example.org") == "coop@example.org"


def test_specials_in_an_ascii_name_are_quoted() -> None:
    value = format_address(name='Smith, "J." \\ Co.', address="j@example.org")
    assert value == '"Smith, \\"J.\\" \\\\ Co." <j@example.org>'
    address = parse_header("To", value)["To"].addresses[0]
    assert address.display_name == 'Smith, "J." \\ Co.'
    assert address.addr_spec == "j@example.org"


def test_a_non_ascii_name_is_encoded_and_read_back() -> None:
    value = format_address(name=MIXED, address="anne@example.org")
    assert value.isascii() and "=?utf-8?" in value
    header = parse_header("To", value)["To"]
    assert header.addresses[0].display_name == MIXED
    assert not header.defects


def test_blank_runs_in_names_collapse() -> None:
    value = format_address(name="  Anne \t  Martin ", address="anne@example.org")
    assert value == "Anne Martin <anne@example.org>"


@pytest.mark.parametrize("domain", ["bücher.example.org", "straße.de", "例え.jp", "ÉCOLE.fr"])
def test_non_ascii_domains_are_written_as_idna_2008(domain: str) -> None:
    expected = validate_email(f"x@{domain}", check_deliverability=False).ascii_email
    assert expected is not None
    assert format_address(name="", address=f"x@{domain}") == expected.lower()
    assert make_message_id(domain=domain).endswith("@" + expected.lower().split("@")[1] + ">")


def test_a_non_ascii_local_part_needs_smtputf8() -> None:
    with pytest.raises(InvalidHeader, match="SMTPUTF8"):
        format_address(name="Zoë", address="zoë@example.org")


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("Anne\r\nBcc: victim@example.org", "anne@example.org"),
        ("Anne\x00", "anne@example.org"),
        ("Anne", "anne@example.org\r\nBcc: victim@example.org"),
        ("Anne", "anne@exa\nmple.org"),
        ("Anne", "not-an-address"),
        ("Anne", "two@@example.org"),
        ("Anne", "a b@example.org"),
        ("Anne", "anne@-bad-.org"),
    ],
)
def test_bad_names_and_addresses_are_refused(name: str, address: str) -> None:
    with pytest.raises(InvalidHeader):
        format_address(name=name, address=address)


@settings(max_examples=400, deadline=None)
@given(name=HEADER_TEXT)
@example(name="تعاونية الإنتاج الزراعي والحيواني في المنطقة الشمالية، الفرع الثاني")
def test_any_display_name_round_trips(name: str) -> None:
    value = format_address(name=name, address="anne@example.org")
    assert_well_formed("To", value)
    expected = " ".join(part for part in re.split(r"[ \t]\s*", name) if part).strip(" ")
    header = parse_header("To", value)["To"]
    assert not header.defects
    (address,) = header.addresses
    assert address.addr_spec == "anne@example.org"
    if expected:
        phrase, _, angle = value.replace("\r\n", "").rpartition(" <")
        assert angle == "anne@example.org>"
        assert decode_phrase(phrase) == expected  # how mail readers decode it (RFC 2047)
    # Python's own parser keeps the space between two encoded words (RFC 2047 drops it),
    # so it matches only up to spaces when a long name needs more than one encoded word.
    assert address.display_name.replace(" ", "") == expected.replace(" ", "")
    if len(ENCODED_WORD.findall(value)) <= 1:
        assert address.display_name == expected


# format_list_id


@pytest.mark.parametrize(
    ("name", "list_id", "expected"),
    [
        ("Members news", "news.example.org", "Members news <news.example.org>"),
        ("", "news.example.org", "news.example.org"),
        ('News, "March"', "news.example.org", '"News, \\"March\\"" <news.example.org>'),
        ("News", "news.exämple.org", "News <news.xn--exmple-cua.org>"),
    ],
)
def test_list_ids_are_formatted(name: str, list_id: str, expected: str) -> None:
    assert format_list_id(name=name, list_id=list_id) == expected


def test_a_non_ascii_list_description_is_encoded() -> None:
    value = format_list_id(name=MIXED, list_id="news.example.org")
    assert_well_formed("List-Id", value)
    phrase, _, angle = value.replace("\r\n", "").rpartition(" <")
    assert decode_phrase(phrase) == MIXED and angle == "news.example.org>"


@pytest.mark.parametrize("list_id", ["", "news", "news example.org", "a@b.org", "x.org\r\nBcc: y"])
def test_malformed_list_ids_are_refused(list_id: str) -> None:
    with pytest.raises(InvalidHeader):
        format_list_id(name="News", list_id=list_id)


# parse_address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Cooperatives Unit <coop@example.org>", ("Cooperatives Unit", "coop@example.org")),
        ("  coop@example.org ", ("", "coop@example.org")),
        ("<coop@example.org>", ("", "coop@example.org")),
        ('"Unit, Cooperatives" <coop@example.org>', ("Unit, Cooperatives", "coop@example.org")),
        ('"Say \\"hi\\"" <coop@example.org>', ('Say "hi"', "coop@example.org")),
        ("Coopérative <coop@exämple.org>", ("Coopérative", "coop@exämple.org")),
    ],
)
def test_configured_senders_are_parsed(value: str, expected: tuple[str, str]) -> None:
    assert parse_address(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Cooperatives Unit",
        "a@example.org, b@example.org",
        "Unit, Cooperatives <coop@example.org>",
        "Unit <coop@example.org> trailing",
        "Unit <coop@example.org",
        "Unit <<coop@example.org>>",
        "coop@example.org (Cooperatives Unit)",
        "Unit <coop@example.org>\r\nBcc: victim@example.org",
        "Unit <zoë@example.org>",
    ],
)
def test_garbage_senders_are_refused(value: str) -> None:
    with pytest.raises(InvalidHeader):
        parse_address(value)


def test_a_parsed_sender_formats_back() -> None:
    name, address = parse_address("Cooperatives Unit <coop@example.org>")
    assert format_address(name=name, address=address) == "Cooperatives Unit <coop@example.org>"


# make_message_id, format_date


def test_message_ids_are_well_formed_and_unique() -> None:
    ids = {make_message_id(domain="example.org") for _ in range(10_000)}
    assert len(ids) == 10_000
    for message_id in list(ids)[:100]:
        assert re.fullmatch(r"<[0-9a-f]{32}\.[0-9]+@example\.org>", message_id)
        assert parse_header("Message-ID", message_id)["Message-ID"] == message_id


def test_message_ids_use_an_ascii_domain() -> None:
    assert make_message_id(domain="exämple.org").endswith("@xn--exmple-cua.org>")
    with pytest.raises(InvalidHeader):
        make_message_id(domain="example.org>\r\nBcc: x")


def test_dates_are_rfc_5322_and_keep_the_offset() -> None:
    moment = datetime(2026, 3, 3, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    value = format_date(moment)
    assert value == "Tue, 03 Mar 2026 09:30:00 +0100"
    assert parsedate_to_datetime(value) == moment


def test_the_default_date_is_now_in_utc() -> None:
    value = format_date()
    assert value.endswith("+0000")
    assert abs(parsedate_to_datetime(value) - datetime.now(UTC)) < timedelta(seconds=5)


def test_naive_dates_are_refused() -> None:
    with pytest.raises(InvalidHeader, match="aware"):
        format_date(datetime(2026, 3, 3, 9, 30))  # noqa: DTZ001 (the point of the test)
