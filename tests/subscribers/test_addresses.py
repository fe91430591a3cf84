"""Address normalisation: the fast path must agree with email-validator wherever it answers."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from subscribers.addresses import (
    _common_form,
    address_hash,
    check_name,
    normalise_address,
)
from subscribers.errors import InvalidAddress, InvalidField

ATOM = st.text(alphabet="abcXYZ019_%+-.", min_size=1, max_size=70)
LABEL = st.text(alphabet="abcxyzQ09-", min_size=1, max_size=66)
TLD = st.sampled_from(["org", "COM", "net", "coop", "test", "local", "x", "onion", "museum", "1a"])


@settings(max_examples=3000, deadline=None)
@given(local=ATOM, labels=st.lists(LABEL, min_size=1, max_size=3), tld=TLD)
def test_fast_path_agrees_with_email_validator(local: str, labels: list[str], tld: str) -> None:
    candidate = f"{local}@{'.'.join([*labels, tld])}"
    fast = _common_form(candidate)
    if fast is None:
        return  # not the fast path's to decide: email-validator runs instead
    expected = validate_email(candidate, check_deliverability=False).normalized.lower()
    assert fast == expected


@settings(max_examples=500, deadline=None)
@given(st.emails())
def test_every_valid_address_normalises_like_email_validator(address: str) -> None:
    try:
        validated = validate_email(address, check_deliverability=False)
        if not validated.local_part.isascii():
            raise EmailNotValidError("needs SMTPUTF8")
        expected = validated.normalized.lower()
    except EmailNotValidError:
        with pytest.raises(InvalidAddress):
            normalise_address(address)
        return
    assert normalise_address(address) == expected


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Amara.Diallo@Coop-Sahel.Example.org", "amara.diallo@coop-sahel.example.org"),
        ("  lucia@andes.example.org\t", "lucia@andes.example.org"),
        ("jose@coopérative.example.org", "jose@coopérative.example.org"),
    ],
)
def test_normalises(raw: str, normalised: str) -> None:
    assert normalise_address(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "two..dots@example.org",
        "x@localhost",
        "x@host.test",
        "inject@example.org\r\nBcc: victim@example.org",
        "nul\x00@example.org",
        "a" * 250 + "@example.org",
        "bytes\udcff@example.org",
        # Non-ASCII before the @ needs SMTPUTF8: refused, not stored to fail at every send.
        "josé@coopérative.example.org",
        "用户@例子.广告",
    ],
)
def test_rejects(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)


def test_hash_is_stable_and_case_insensitive_through_normalisation() -> None:
    assert address_hash(normalise_address("A@Example.org")) == address_hash("a@example.org")
    assert len(address_hash("a@example.org")) == 64


@pytest.mark.parametrize("raw", ["Eve\r\nBcc: all", "Nul\x00", "x" * 201])
def test_names_that_cannot_go_in_a_header(raw: str) -> None:
    with pytest.raises(InvalidField):
        check_name(raw)
