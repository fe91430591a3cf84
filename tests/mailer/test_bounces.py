"""Reading bounce mail: real Postfix bounces, hand-made Exim, Gmail and Outlook shapes, ARF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.bounces import (
    DIAGNOSTIC_MAX,
    MAX_MESSAGE_BYTES,
    BounceKind,
    BounceReport,
    classify,
    clean_text,
    message_key,
    parse_bounce,
)

SAMPLES = Path(__file__).resolve().parent.parent / "bounces_samples"
HARD, SOFT = BounceKind.HARD, BounceKind.SOFT
UNCLEAN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e]")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def assert_storable(report: BounceReport) -> None:
    """What the module promises of every string it returns: one clean line, capped."""
    texts = [
        *report.envelope_addresses,
        report.original_message_id or "",
        report.token or "",
        report.feedback_type or "",
    ]
    for failure in report.failures:
        texts += [failure.recipient or "", failure.status or "", failure.action or ""]
        texts.append(failure.diagnostic)
    for text in texts:
        assert not UNCLEAN.search(text), text
        assert len(text) <= DIAGNOSTIC_MAX
    for address in report.envelope_addresses:
        assert address.count("@") == 1 and len(address) <= 254
    if report.original_message_id is not None:
        assert re.fullmatch(r"<[^<>\s]{1,250}>", report.original_message_id)


@pytest.mark.parametrize(
    ("name", "kind", "recipient", "status", "envelope", "original"),
    [
        (
            "postfix-unknown-user.eml",
            HARD,
            "nosuchuser@coop.test",
            "5.1.1",
            "bounces+d1.1720b3a460@coop.test",
            "<4f1c2a9be0d34a6f9c1e2b3a4d5e6f70.1795969200000@coop.test>",
        ),
        (
            "postfix-closed-domain.eml",
            HARD,
            "amara@gone.example.net",
            "5.1.1",
            "bounces+d2.9aab38e919@coop.test",
            "<8a7b6c5d4e3f21009f8e7d6c5b4a3928.1795969200001@coop.test>",
        ),
        (
            "postfix-mailbox-full.eml",
            SOFT,
            "lucia@full.example.net",
            "5.2.2",
            "bounces@coop.test",
            "<0b1c2d3e4f5a69788796a5b4c3d2e1f0.1795969200002@coop.test>",
        ),
        (
            "postfix-delayed.eml",
            SOFT,
            "kofi@slow.example.net",
            "4.4.1",
            "bounces+d4.5fa43ce526@coop.test",
            "<c3d4e5f60718293a4b5c6d7e8f901a2b.1795969200003@coop.test>",
        ),
        (
            "exim-failed.eml",
            HARD,
            "tomas.rivera@example.net",
            "5.1.1",
            "bounces+d6.b603f67fd3@news.example.org",
            "<5e6f708192a3b4c5d6e7f8091a2b3c4d.1795950838000@news.example.org>",
        ),
        (
            "gmail-failed.eml",
            HARD,
            "amina.okafor@example.net",
            "5.1.1",
            "bounces@news.example.org",
            "<7a8b9c0d1e2f30415263748596a7b8c9.1795951870000@news.example.org>",
        ),
        (
            "outlook-ndr.eml",
            HARD,
            "joseph.mwangi@example.net",
            "5.1.10",
            "bounces+d8.a8367e0913@news.example.org",
            "<9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f.1795953760000@news.example.org>",
        ),
        (
            "exchange-legacy-ndr.eml",
            HARD,
            "ines.carvalho@example.net",
            "5.0.0",
            "bounces@news.example.org",
            "<1f2e3d4c5b6a79880796a5b4c3d2e1f0.1795956001000@news.example.org>",
        ),
    ],
)
def test_bounces_of_every_shape_are_read(
    name: str, kind: BounceKind, recipient: str, status: str, envelope: str, original: str
) -> None:
    report = parse_bounce(data=sample(name))
    assert report.kind is kind
    worst = report.worst
    assert worst is not None
    assert (worst.recipient, worst.status, worst.kind) == (recipient, status, kind)
    assert envelope in report.envelope_addresses
    assert report.original_message_id == original
    assert not report.truncated


def test_the_diagnostic_is_kept_as_one_clean_line() -> None:
    worst = parse_bounce(data=sample("gmail-failed.eml")).worst
    assert worst is not None
    assert worst.diagnostic.startswith("smtp; 550-5.1.1 The email account that you tried")
    assert "\n" not in worst.diagnostic
    assert "gsmtp" in worst.diagnostic  # the folded lines are joined, not cut


def test_a_returned_original_carries_its_unsubscribe_token() -> None:
    report = parse_bounce(data=sample("postfix-unknown-user.eml"))
    assert report.token == "__________8AAAAAAAAAAQAAAAAAAAABAAAAAAAAAAGPolNKJw_vz2bhJGJK-tMV"
    exim = parse_bounce(data=sample("exim-failed.eml"))  # the original inline, as text
    assert exim.token == "__________8AAAAAAAAABgAAAAAAAAABAAAAAAAAAAEXBFvoyNF_hIX7FfZBK8bp"


def test_an_arf_abuse_report_is_a_complaint_with_the_original_message() -> None:
    report = parse_bounce(data=sample("arf-complaint.eml"))
    assert report.kind is BounceKind.COMPLAINT
    assert report.feedback_type == "abuse"
    assert report.original_message_id == (
        "<2a3b4c5d6e7f8091a2b3c4d5e6f70819.1795960690000@news.example.org>"
    )
    assert report.token == "__________8AAAAAAAAACgAAAAAAAAABAAAAAAAAAAG5hLJWnG-VyRiDfv9AHZvS"
    assert "bounces+d10.9858551ec5@news.example.org" in report.envelope_addresses
    worst = report.worst
    assert worst is not None
    assert worst.diagnostic == "feedback-type abuse from ExampleFBL/2.1"


def test_other_feedback_types_are_not_complaints() -> None:
    data = sample("arf-complaint.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    report = parse_bounce(data=data)
    assert report.kind is None
    assert report.feedback_type == "not-spam"


def test_a_mailto_unsubscribe_request_names_its_token() -> None:
    report = parse_bounce(data=sample("postfix-unsubscribe-request.eml"))
    assert report.kind is BounceKind.UNSUBSCRIBE
    assert report.token == "__________8AAAAAAAAABQAAAAAAAAABAAAAAAAAAAFNmFHZLAWc3j_8DT7l6U_A"
    assert report.failures == ()


def test_an_auto_reply_is_not_recognised() -> None:
    report = parse_bounce(data=sample("out-of-office.eml"))
    assert (report.kind, report.failures, report.token) == (None, (), None)


def test_the_envelope_recipient_given_by_the_mta_comes_first() -> None:
    report = parse_bounce(
        data=sample("gmail-failed.eml"),
        envelope_recipients=["Bounces+D9.00228949b6@news.example.org", "not an address"],
    )
    assert report.envelope_addresses[0] == "bounces+d9.00228949b6@news.example.org"


def test_a_successful_delivery_report_is_no_failure() -> None:
    data = sample("postfix-unknown-user.eml").replace(b"Action: failed", b"Action: delivered")
    data = data.replace(b"Status: 5.1.1", b"Status: 2.0.0")
    assert parse_bounce(data=data).kind is None


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("failed", "5.1.1", HARD),
        ("failed", "5.4.4", HARD),
        ("failed", None, HARD),
        ("failed", "5.2.2", SOFT),  # mailbox full
        ("failed", "5.7.1", SOFT),  # policy or spam block: the message, not the address
        ("failed", "5.3.4", SOFT),
        ("failed", "4.4.7", SOFT),  # gave up on a transient error
        ("delayed", "4.4.1", SOFT),
        ("delayed", None, SOFT),
        (None, "5.1.1", HARD),
        ("delivered", "2.0.0", None),
        ("relayed", None, None),
        (None, None, None),
    ],
)
def test_classification(action: str | None, status: str | None, kind: BounceKind | None) -> None:
    assert classify(action=action, status=status) is kind


def test_the_key_ignores_headers_added_on_the_way() -> None:
    data = sample("postfix-unknown-user.eml")
    crlf = data.replace(b"\n", b"\r\n")
    again = b"Delivered-To: someone@example.org\nReceived: by imap.example.org\n" + data
    assert message_key(data) == message_key(again) == message_key(crlf)
    assert message_key(data) != message_key(sample("postfix-closed-domain.eml"))


def test_oversized_messages_are_cut_not_refused() -> None:
    data = sample("postfix-unknown-user.eml") + b"x" * (MAX_MESSAGE_BYTES + 10)
    report = parse_bounce(data=data)
    assert report.truncated
    assert report.kind is HARD  # the report comes first; the cut tail does not matter


def test_control_characters_and_length_are_cleaned() -> None:
    dirty = "550\x00 user\x1b[31m unknown\r\nInjected: yes\u202e" + "x" * 5000
    cleaned = clean_text(dirty)
    assert len(cleaned) == DIAGNOSTIC_MAX
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in cleaned)
    assert cleaned.startswith("550 user [31m unknown Injected: yes")
    assert "\u202e" not in cleaned
    data = sample("postfix-unknown-user.eml").replace(
        b'unknown user: "nosuchuser"', b"unknown \x1b[2J\x07" + b"y" * 3000
    )
    worst = parse_bounce(data=data).worst
    assert worst is not None
    assert len(worst.diagnostic) == DIAGNOSTIC_MAX
    assert "\x1b" not in worst.diagnostic


def test_deeply_nested_garbage_is_survived() -> None:
    parts = [
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(3000)
    ]
    report = parse_bounce(data=b"MIME-Version: 1.0\n" + b"".join(parts))
    assert report.kind is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    report = parse_bounce(data=data)
    assert len(report.message_key) == 64
    assert_storable(report)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(path.name for path in SAMPLES.glob("*.eml"))),
    cut=st.integers(min_value=0, max_value=4000),
    junk=st.binary(max_size=200),
    at=st.integers(min_value=0, max_value=4000),
)
def test_mangled_real_bounces_never_crash_the_parser(
    name: str, cut: int, junk: bytes, at: int
) -> None:
    data = sample(name)
    mangled = data[:at] + junk + data[at:cut] if cut > at else data[:cut] + junk
    report = parse_bounce(data=mangled)
    for failure in report.failures:
        assert len(failure.diagnostic) <= DIAGNOSTIC_MAX
        assert failure.recipient is None or "@" in failure.recipient
        assert "\n" not in failure.diagnostic and "\r" not in failure.diagnostic
    assert_storable(report)


@settings(max_examples=200, deadline=None)
@given(
    where=st.sampled_from(
        [
            (
                "postfix-unknown-user.eml",
                b"4f1c2a9be0d34a6f9c1e2b3a4d5e6f70.1795969200000@coop.test",
            ),
            (
                "gmail-failed.eml",
                b"7a8b9c0d1e2f30415263748596a7b8c9.1795951870000@news.example.org",
            ),
            ("exim-failed.eml", b"5e6f708192a3b4c5d6e7f8091a2b3c4d.1795950838000@news.example.org"),
        ]
    ),
    value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
)
def test_a_returned_message_id_comes_back_clean_whatever_it_holds(
    where: tuple[str, bytes], value: str
) -> None:
    # It is looked up in the outbox: a NUL there made PostgreSQL refuse every run.
    name, original = where
    report = parse_bounce(data=sample(name).replace(original, value.encode()))
    assert_storable(report)


def test_a_plain_bounce_without_a_from_header_is_still_read() -> None:
    # flufl.bounce's Yale detector fails on a single-part message without From, and the
    # qmail detector after it would never run.
    data = (
        b"Subject: failure notice\n\n"
        b"Hi. This is the qmail-send program at mx.example.net.\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        b"<rosa.mendes@example.net>:\n"
        b"192.0.2.30 does not like recipient.\n"
        b"Remote host said: 550 5.1.1 no mailbox here by that name\n"
    )
    worst = parse_bounce(data=data).worst
    assert worst is not None
    assert (worst.recipient, worst.status, worst.kind) == ("rosa.mendes@example.net", "5.1.1", HARD)


def test_thousands_of_parts_are_cut_before_parsing() -> None:
    parts = b"--b\nContent-Type: text/plain\n\nx\n" * 100_000
    data = b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n' + parts
    report = parse_bounce(data=data)
    assert report.truncated and report.kind is None
    assert not parse_bounce(data=sample("gmail-failed.eml")).truncated


@pytest.mark.parametrize(("length", "kind"), [(998, HARD), (999, None)])
def test_a_line_longer_than_rfc_5322_allows_skips_the_heuristics(
    length: int, kind: BounceKind | None
) -> None:
    # flufl.bounce's Exchange detector backtracks quadratically on such a line: at the
    # 256 KiB the heuristics read, one message would take minutes.
    line = b"a" * (length // 2) + b"@" + b"b" * (length - length // 2 - 1)
    data = sample("exchange-legacy-ndr.eml").replace(
        b"did not reach the following recipient(s):\n",
        b"did not reach the following recipient(s):\n" + line + b"\n",
    )
    assert parse_bounce(data=data).kind is kind


def test_mail_without_a_message_id_is_told_apart_by_its_headers() -> None:
    request = sample("postfix-unsubscribe-request.eml")
    head, _, body = request.partition(b"\n\n")
    bare = b"\n".join(line for line in head.split(b"\n") if not line.startswith(b"Message-ID:"))
    token = parse_bounce(data=request).token
    assert token is not None
    other = bare.replace(token.encode(), token[:-1].encode() + b"B")
    assert message_key(bare + b"\n\n" + body) != message_key(other + b"\n\n" + body)
    folded = bare.replace(b"Subject: unsubscribe ", b"Subject: unsubscribe\r\n ")
    assert message_key(folded + b"\n\n" + body) == message_key(bare + b"\n\n" + body)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(path.name for path in SAMPLES.glob("*.eml"))),
    junk=st.binary(max_size=500),
)
def test_junk_after_a_real_bounce_never_changes_what_it_says(name: str, junk: bytes) -> None:
    # parse_bounce swallows every exception, so "never crashes" alone cannot fail; a
    # reading that broke on the junk would lose the report here.
    data = sample(name)
    clean, mangled = parse_bounce(data=data), parse_bounce(data=data + b"\n" + junk)
    assert clean.kind is not None or name == "out-of-office.eml"
    assert (mangled.kind, mangled.worst, mangled.original_message_id) == (
        clean.kind,
        clean.worst,
        clean.original_message_id,
    )


@pytest.mark.parametrize("charset", ["idna", "undefined", "no-such-charset"])
def test_a_part_in_a_charset_that_cannot_decode_is_read_as_utf_8(charset: str) -> None:
    data = sample("exchange-legacy-ndr.eml")  # read by the heuristics, from its text
    report = parse_bounce(data=data.replace(b'"iso-8859-1"', b'"%s"' % charset.encode()))
    worst = report.worst
    assert worst is not None
    assert (worst.recipient, worst.kind) == ("ines.carvalho@example.net", HARD)
