"""Header values: refuse injection, encode text and addresses, make ids and dates.

Every function returns a value ready to follow "Name: " on a header line: ASCII only,
folded with CRLF + whitespace where needed, which is what mime.assemble expects.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from email.utils import format_datetime

from mailer.errors import InvalidHeader
from mailer.folding import LINE, LONGEST_BLANK, LONGEST_LITERAL, fold, words_of

# CR and LF would end the header and start another one (injection); NUL and the other
# controls have no place in a header; lone surrogates are undecodable bytes and cannot be
# written as UTF-8. TAB is ordinary whitespace.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]{1,76}")  # ftext; 76 leaves room for ": " and text
_BLANKS = re.compile(r"([ \t]+)")
_NAME_BLANKS = re.compile(r"[ \t]\s*")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ATOM = re.compile(rf"{_ATEXT}+")
_ATOMS = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DOMAIN_LITERAL = re.compile(r"\[[\x21-\x5a\x5e-\x7e]+\]")
_DOMAIN_DOTS = re.compile("[.\u3002\uff0e\uff61]")  # the dots IDNA treats as dots
_DOMAIN_MAX = 253

# Address headers have no header name to measure; assume the longest we write.
_ADDRESS_START = len("Reply-To: ")

_NAME_ADDR = re.compile(
    r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<plain>[^"<>]*?))\s*<(?P<address>[^<>]*)>\s*'
)
_BARE_ADDRESS = re.compile(r'\s*(?P<address>[^\s<>"(),;:]+)\s*')
_QUOTED_PAIR = re.compile(r"\\(.)")


def check_header_name(*, name: str) -> str:
    """The name unchanged, or InvalidHeader: printable ASCII without colon or space."""
    if _NAME.fullmatch(name) is None:
        raise InvalidHeader(
            f"{name!r} is not a valid header name "
            "(1 to 76 printable ASCII characters, no colon, no space)"
        )
    return name


def check_header_value(*, name: str, value: str) -> str:
    """The value unchanged, or InvalidHeader if a control character could corrupt the header.

    CR or LF in a value is how header injection works ("Subject\\r\\nBcc: ..."), so this
    runs on every value that came from outside before anything else is done with it.
    """
    _refuse_unsafe(f"the {name} header", value)
    return value


def encode_header(*, name: str, value: str) -> str:
    """The value as an unstructured header body (Subject...), folded, ASCII only.

    Plain ASCII stays readable and is folded at whitespace near 78 characters; words that
    are not plain ASCII become UTF-8 encoded words. Only encoded words are used where the
    literal text would not come back unchanged: leading or trailing whitespace, text that
    looks like an encoded word ("=?"), words too long for a 998-character line.
    Not for structured headers (From, To, Reply-To, List-Id): an encoded word would land
    inside a quoted string or an address there. Use format_address / format_list_id.
    """
    check_header_name(name=name)
    _refuse_unsafe(f"the {name} header", value)
    start = len(name) + 2
    if (
        value.isascii()
        and start + len(value) <= LINE
        and "=?" not in value
        and (not value or (value[0] not in " \t" and value[-1] not in " \t"))
    ):
        return value
    parts = _BLANKS.split(value)
    words, blanks = parts[0::2], parts[1::2]
    literal = [
        word.isascii() and "=?" not in word and len(word) <= LONGEST_LITERAL for word in words
    ]
    if len(words) > 1:
        if not words[0]:  # leading whitespace would be lost: encode it with the first word
            literal[0] = literal[1] = False
        if not words[-1]:  # trailing whitespace is fragile in transit: same at the end
            literal[-1] = literal[-2] = False
    for index, blank in enumerate(blanks):
        if len(blank) > LONGEST_BLANK:
            literal[index + 1] = False
    return fold(words_of(words=words, blanks=blanks, literal=literal), start=start)


def format_address(*, name: str, address: str) -> str:
    """A mailbox header value: `Display Name <local@domain>`, or the bare address if no name.

    Runs of blanks in the name collapse to one space, as every mail reader shows them.
    Specials in an ASCII name are quoted; non-ASCII words are encoded words. A non-ASCII
    domain is written in IDNA (punycode) form. A non-ASCII local part is refused: it can
    only be delivered with the SMTPUTF8 extension, which we do not use.
    """
    spec = _address_spec(address)
    _refuse_unsafe("the display name", name)
    return _phrase_and_angle(name, spec)


def format_list_id(*, name: str, list_id: str) -> str:
    """A List-Id header value (RFC 2919): `Description <label.example.org>`.

    The description is encoded like a display name; a non-ASCII namespace becomes IDNA.
    """
    _refuse_unsafe("the List-Id", list_id)
    _refuse_unsafe("the List-Id description", name)
    identifier = list_id if list_id.isascii() else _ascii_domain(list_id)
    if _DOT_ATOM.fullmatch(identifier) is None or "." not in identifier or len(identifier) > 255:
        raise InvalidHeader(f"{list_id!r} is not a list identifier like 'news.example.org'")
    return _phrase_and_angle(name, identifier)


def _phrase_and_angle(name: str, inside: str) -> str:
    """`phrase <inside>`, the phrase quoted or encoded as needed; just `inside` without one."""
    display = _NAME_BLANKS.sub(" ", name).strip(" ")
    if not display:
        return inside
    angle = f"<{inside}>"
    if display.isascii() and "=?" not in display:
        if _ATOMS.fullmatch(display) is None:
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if _ADDRESS_START + len(display) + 1 + len(angle) <= LINE:
            return f"{display} {angle}"
        words = display.split(" ")
        literal = [len(word) <= LONGEST_LITERAL for word in words]
        if not all(literal):  # a huge quoted word: encode the name itself instead
            words = _NAME_BLANKS.sub(" ", name).strip(" ").split(" ")
            literal = [False] * len(words)
    else:
        words = display.split(" ")
        literal = [
            _ATOM.fullmatch(word) is not None and "=?" not in word and len(word) <= LONGEST_LITERAL
            for word in words
        ]
    phrase = words_of(words=words, blanks=[" "] * (len(words) - 1), literal=literal)
    return fold([*phrase, (" ", angle, False)], start=_ADDRESS_START)


def parse_address(value: str) -> tuple[str, str]:
    """(display name, address) from a configured sender like `Unit <unit@example.org>`.

    Accepts a bare address, `Name <address>` and `"Quoted, Name" <address>`; refuses lists,
    comments and anything else with InvalidHeader, since a sender must be exactly one mailbox.
    """
    _refuse_unsafe("the address", value)
    match = _NAME_ADDR.fullmatch(value)
    if match is not None:
        plain = match["plain"]
        if plain is not None and any(char in plain for char in ",;@"):
            raise InvalidHeader(
                f"{value!r} is ambiguous: put the display name in double quotes "
                '(e.g. "Unit, Cooperatives" <unit@example.org>)'
            )
        quoted = match["quoted"]
        name = _QUOTED_PAIR.sub(r"\1", quoted) if quoted is not None else plain.strip()
        address = match["address"].strip()
    else:
        match = _BARE_ADDRESS.fullmatch(value)
        if match is None:
            raise InvalidHeader(
                f"{value!r} is not one address like 'Name <local@example.org>' "
                "or 'local@example.org'"
            )
        name, address = "", match["address"]
    _address_spec(address)
    return name, address


def make_message_id(*, domain: str) -> str:
    """A new Message-ID `<random.timestamp@domain>`; 128 random bits make it unique alone."""
    return f"<{secrets.token_hex(16)}.{time.time_ns() // 1_000_000}@{_ascii_domain(domain)}>"


def list_unsubscribe(*, url: str, mailbox: str, token: str) -> list[tuple[str, str]]:
    """The headers a mail program builds its own unsubscribe button from: ``url`` for the
    one-click POST (RFC 8058), and a mailto (RFC 2369) for the programs that can only write
    a mail, to ``mailbox`` with the same signed ``token`` in its Subject, which bounce
    processing reads. Campaigns and system mails alike take them from here."""
    return [
        (
            "List-Unsubscribe",
            f"<{url}>,\r\n <mailto:{mailbox}?subject=unsubscribe%20{token}>",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


_FEEDBACK_FIELD = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_feedback_sender(*, sender: str) -> str:
    """``sender`` if it can be the SenderId of a Feedback-ID: letters, digits, ``.``, ``_``
    and ``-`` only (``:`` separates the fields), at most 64 of them."""
    if _FEEDBACK_FIELD.fullmatch(sender) is None:
        raise InvalidHeader(
            f"the Feedback-ID sender {sender!r} may hold only letters, digits, '.', '_' and "
            "'-' (at most 64)"
        )
    return sender


def format_feedback_id(*, identifiers: tuple[str, ...], sender: str) -> str:
    """A Feedback-ID value ``a:b:c:SenderId`` for Gmail's feedback loop, which counts spam
    complaints per identifier: ``identifiers`` name what is counted (a campaign, a list, a
    kind; never a person), ``sender`` is the same in every message of the sender. Characters
    other than letters, digits, ``.``, ``_`` and ``-`` in an identifier become ``-``."""
    fields = [re.sub(r"[^A-Za-z0-9._-]", "-", field)[:64] or "-" for field in identifiers]
    return ":".join([*fields, check_feedback_sender(sender=sender)])


def format_date(moment: datetime | None = None) -> str:
    """An RFC 5322 date (`Tue, 03 Mar 2026 09:30:00 +0000`); now, in UTC, by default.

    Naive datetimes are refused: there is no telling whether they meant local time or UTC.
    """
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.utcoffset() is None:
        raise InvalidHeader("format_date needs an aware datetime (with tzinfo), not a naive one")
    return format_datetime(moment)


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """The domain as ASCII: non-ASCII labels in IDNA form (`xn--...`), or InvalidHeader.

    Labels are NFC-normalised, lower-cased and punycode-encoded, which is what IDNA 2008
    gives for the already-validated domains we store. The stdlib "idna" codec implements
    IDNA 2003 and would send "straße.de" to "strasse.de", a different domain.
    """
    if _DOMAIN_LITERAL.fullmatch(domain):
        return domain
    labels = []
    for label in _DOMAIN_DOTS.split(domain):
        ascii_label = label if label.isascii() else _a_label(label)
        if _LABEL.fullmatch(ascii_label) is None:
            raise InvalidHeader(f"{domain!r} is not a valid domain name")
        labels.append(ascii_label)
    result = ".".join(labels)
    if len(result) > _DOMAIN_MAX:
        raise InvalidHeader(f"the domain {domain!r} is longer than {_DOMAIN_MAX} characters")
    return result


def _a_label(label: str) -> str:
    normal = unicodedata.normalize("NFC", label.lower())
    return "xn--" + normal.encode("punycode").decode("ascii")


def _address_spec(address: str) -> str:
    """`local@domain` ready for a header, or InvalidHeader saying what is wrong with it."""
    _refuse_unsafe("the address", address)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidHeader(f"{address!r} is not an e-mail address (local-part@domain)")
    if not local.isascii():
        raise InvalidHeader(
            f"the address {address!r} has a non-ASCII local part: it needs SMTPUTF8, "
            "which this mailer does not use"
        )
    if _DOT_ATOM.fullmatch(local) is None:
        raise InvalidHeader(
            f"the local part of {address!r} is not a plain dot-atom "
            "(quoted local parts are not supported)"
        )
    return f"{local}@{_ascii_domain(domain)}"


def _refuse_unsafe(what: str, value: str) -> None:
    match = _UNSAFE.search(value)
    if match is None:
        return
    char = match.group()
    if char in "\r\n":
        problem = "a line break (CR or LF), which could inject other headers"
    elif char == "\x00":
        problem = "a NUL character"
    elif "\ud800" <= char <= "\udfff":
        problem = "an undecodable character (lone surrogate)"
    else:
        problem = f"the control character U+{ord(char):04X}"
    raise InvalidHeader(f"{what} contains {problem} at position {match.start()}")
