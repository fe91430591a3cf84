"""Validate, normalise and hash e-mail addresses and the text fields that travel with them."""

from __future__ import annotations

import hashlib
import re

from email_validator import EmailNotValidError, validate_email

from subscribers.errors import InvalidAddress, InvalidField
from subscribers.models import EMAIL_MAX, NAME_MAX

# Plain ASCII addresses are the vast majority. email-validator costs ~25 µs each, which
# alone would cap an import below 40,000 rows/s, so a conservative pattern accepts the
# common shape directly; anything it does not match goes through email-validator.
# tests/subscribers/test_addresses.py proves the two agree wherever the pattern matches.
_ATOM = r"[A-Za-z0-9_%+-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_COMMON_ADDRESS = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+([A-Za-z]{{2,63}}))")
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_LOCAL_MAX = 64

# CR, LF and NUL would let a value forge mail headers; other C0 controls have no place in
# a name either. Lone surrogates are undecodable bytes carried through by surrogateescape.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")


def normalise_address(raw: str) -> str:
    """The canonical, lower-cased form of an address, or InvalidAddress saying why not.

    No DNS lookups: an import must not depend on the network or on a slow resolver.
    """
    candidate = raw.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    if _UNSAFE_CHARACTERS.search(candidate):
        raise InvalidAddress("the address contains a control character or undecodable bytes")
    if len(candidate) > EMAIL_MAX:
        raise InvalidAddress(f"the address is longer than {EMAIL_MAX} characters")
    fast = _common_form(candidate)
    if fast is not None:
        return fast
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from None
    if not result.local_part.isascii():
        # Deliverable only over SMTPUTF8, which coopmail does not speak: refused at the
        # door rather than stored and failed at every send. (A non-ASCII domain is fine:
        # it goes on the wire in its IDNA form.)
        raise InvalidAddress(
            "the part before the @ has non-ASCII characters, which most mail servers cannot "
            "deliver to (it needs SMTPUTF8); use an address written in ASCII letters"
        )
    return result.normalized.lower()


def _common_form(candidate: str) -> str | None:
    match = _COMMON_ADDRESS.fullmatch(candidate)
    if match is None:
        return None
    local, domain, tld = match.groups()
    if len(local) > _LOCAL_MAX or "--" in domain or tld.lower() in _SPECIAL_USE_TLDS:
        return None
    return candidate.lower()


def address_hash(email: str) -> str:
    """A stable hash of a normalised address: what a suppression keeps after erasure."""
    return hashlib.sha256(b"coopmail:" + email.encode("utf-8")).hexdigest()


def check_text(value: str, *, field: str, limit: int) -> str:
    """A stripped single-line value that is safe to place in a mail header."""
    value = value.strip()
    if _UNSAFE_CHARACTERS.search(value):
        raise InvalidField(f"{field} contains a line break, NUL or other control character")
    if len(value) > limit:
        raise InvalidField(f"{field} is longer than {limit} characters")
    return value


def check_name(value: str) -> str:
    return check_text(value, field="name", limit=NAME_MAX)


def has_unsafe_characters(value: str) -> bool:
    return _UNSAFE_CHARACTERS.search(value) is not None
