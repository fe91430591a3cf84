"""Reading bounce mail: DSNs (RFC 3464), complaints (ARF, RFC 5965), mailto unsubscribes.

Everything here reads attacker-controlled bytes, so it never raises on bad input: a message
it cannot make sense of comes back with ``kind`` None. Sizes are capped, and every string it
returns is stripped of control characters and cut to a known length, ready to be stored.
The database is none of its business: it only says what a message claims and which
addresses or Message-ID could identify the delivery it is about (VERP, the original
headers), for the campaigns package to verify.
"""

from __future__ import annotations

import email
import email.policy
import enum
import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from flufl.bounce import all_failures

# flufl.bounce logs a traceback before re-raising a detector's failure, which we catch:
# on attacker-controlled input that is noise, not news.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())
logging.getLogger("flufl.bounce").propagate = False

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
DIAGNOSTIC_MAX = 1000
ADDRESS_MAX = 254
_FIELD_MAX = 100
_TOKEN_MAX = 200
_HEURISTIC_BYTES = 256 * 1024  # flufl.bounce scans line by line; bounce texts are short
# Some of flufl.bounce's patterns backtrack quadratically on a long line (20,000 characters
# take its Exchange detector 4 s); RFC 5322 lines are at most 998, so longer ones skip it.
_HEURISTIC_LINE_MAX = 998
_LONG_LINE = re.compile(rb"[^\r\n]{%d}" % (_HEURISTIC_LINE_MAX + 1))
# A report has a handful of parts; thousands only make the email parser slow (300,000
# parts in 10 MB take it 6 s). The parts past this many are cut off before parsing.
_BOUNDARY_LINES_MAX = 1000
_BOUNDARY_LINE = re.compile(rb"\n--")

# Headers the delivering MTA adds naming the envelope recipient: a VERP bounce address.
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\d.])([245])\d\d(?![\d.])")
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*unsubscribe\s+([A-Za-z0-9_-]{16,200})\s*$", re.IGNORECASE)
_UNSUBSCRIBE_IN_HEADER = re.compile(r"subject=unsubscribe(?:%20|\+|\s)+([A-Za-z0-9_-]{16,200})")
_INLINE_MESSAGE_ID = re.compile(r"(?im)^message-id:([^\r\n]*)")
_ANGLE_ID = re.compile(r"<[^<>\s]{1,250}>")
_KEY_HEADERS = (b"message-id", b"date", b"from", b"subject")
_KEY_HEADER = re.compile(rb"(?im)^(message-id|date|from|subject):([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SPACES = re.compile(r"\s+")

# Permanent failures that blame the message or a policy, not the address: a full mailbox,
# a message too large, content or spam filtering. They score like soft bounces, so one
# blocklisting cannot suppress a whole list at once.
_MESSAGE_LEVEL = ("5.2.2", "5.2.3", "5.3.4", "5.6.", "5.7.")


class BounceKind(enum.StrEnum):
    HARD = "hard"  # permanent: the address does not work
    SOFT = "soft"  # transient, or permanent for this message only
    COMPLAINT = "complaint"  # the recipient marked the message as spam (ARF abuse)
    UNSUBSCRIBE = "unsubscribe"  # a mail to the List-Unsubscribe mailto


@dataclass(frozen=True, kw_only=True)
class Failure:
    """One recipient a report names; ``status`` is an RFC 3463 code such as 5.1.1."""

    recipient: str | None
    kind: BounceKind
    status: str | None
    action: str | None
    diagnostic: str


@dataclass(frozen=True, kw_only=True)
class BounceReport:
    """What one message in the bounce mailbox says, and the clues to whom it is about."""

    message_key: str  # identical for the same message however often it is read
    kind: BounceKind | None  # None: not a bounce, complaint or unsubscribe we recognise
    failures: tuple[Failure, ...]
    envelope_addresses: tuple[str, ...]  # where it was delivered: a VERP address, maybe
    original_message_id: str | None  # of the message that bounced or was complained about
    # A signed unsubscribe token: the request's Subject, or the returned original's
    # List-Unsubscribe (it names the subscriber, list and campaign).
    token: str | None
    feedback_type: str | None
    truncated: bool

    @property
    def worst(self) -> Failure | None:
        """The failure that decides what happens: a complaint, else hard before soft."""
        return _worst(self.failures)


def parse_bounce(*, data: bytes, envelope_recipients: Iterable[str] = ()) -> BounceReport:
    """Read one message; never raises, whatever the bytes."""
    truncated = len(data) > MAX_MESSAGE_BYTES
    data = data[:MAX_MESSAGE_BYTES]
    key = message_key(data)
    for number, match in enumerate(_BOUNDARY_LINE.finditer(data), 1):
        if number > _BOUNDARY_LINES_MAX:
            data, truncated = data[: match.start()], True
            break
    envelope = tuple(_unique(_clean_address(a) for a in envelope_recipients))
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        return _read(message, key=key, envelope=envelope, truncated=truncated)
    except Exception:  # garbage, deep nesting, a library bug: never the caller's crash
        return BounceReport(
            message_key=key,
            kind=None,
            failures=(),
            envelope_addresses=envelope,
            original_message_id=None,
            token=None,
            feedback_type=None,
            truncated=truncated,
        )


def message_key(data: bytes) -> str:
    """A hash of the author's headers and the body: the same whether read from an mbox, a
    Maildir or IMAP, where each MTA on the way prepended trace headers of its own. Not the
    Message-ID alone: mail without one (or with a made-up one) differs in its Subject, such
    as two unsubscribe requests with the same empty body."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator or b"\n\n" in head:
        head, _, body = data.partition(b"\n\n")
    found: dict[bytes, bytes] = {}
    for name, value in _KEY_HEADER.findall(head):
        found.setdefault(name.lower(), b" ".join(value.split()))
    authored = b"\x00".join(found.get(name, b"") for name in _KEY_HEADERS)
    normalised = body.replace(b"\r\n", b"\n")
    return hashlib.sha256(authored + b"\x00" + normalised).hexdigest()


def classify(*, action: str | None, status: str | None) -> BounceKind | None:
    """Permanent (5.x.x, failed) is hard, transient (4.x.x, delayed) soft; None: no failure."""
    action = (action or "").lower()
    if action in ("delivered", "relayed", "expanded"):
        return None
    if action == "delayed" or (status or "").startswith("4"):
        return BounceKind.SOFT
    if status and status.startswith("5"):
        return BounceKind.SOFT if status.startswith(_MESSAGE_LEVEL) else BounceKind.HARD
    return BounceKind.HARD if action == "failed" else None


def clean_text(value: object, *, limit: int = DIAGNOSTIC_MAX) -> str:
    """One line of printable text: control, format (bidi) and surrogate characters gone, capped."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cs", "Co", "Cn", "Cf"))
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read(
    message: Message, *, key: str, envelope: tuple[str, ...], truncated: bool
) -> BounceReport:
    addresses = _unique(
        [
            *envelope,
            *(
                _clean_address(address)
                for name in ENVELOPE_HEADERS
                for _, address in getaddresses([str(v) for v in message.get_all(name, [])])
            ),
        ]
    )
    content_type = message.get_content_type()
    report_type = message.get_param("report-type", header="content-type")
    report = str(report_type).lower() if content_type == "multipart/report" else ""
    failures: tuple[Failure, ...] = ()
    feedback_type = None
    original = _original_headers(message)
    request = _subject_token(message) if content_type != "multipart/report" else None
    if report == "feedback-report":
        feedback_type, failures = _feedback(message)
    elif report == "delivery-status":
        failures = _delivery_status(message)
    if not failures and request is None and feedback_type is None:
        failures = _heuristics(message)
    worst = _worst(failures)
    kind = worst.kind if worst is not None else None
    if kind is None and request is not None:
        kind = BounceKind.UNSUBSCRIBE
    return BounceReport(
        message_key=key,
        kind=kind,
        failures=failures,
        envelope_addresses=tuple(addresses),
        original_message_id=_message_id(original) or _inline_message_id(message),
        token=request or _header_token(original) or _inline_token(message),
        feedback_type=feedback_type,
        truncated=truncated,
    )


def _delivery_status(message: Message) -> tuple[Failure, ...]:
    failures = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        groups = _field_groups(part)
        for fields in groups[1:] or groups:
            recipient = _dsn_address(fields.get("Final-Recipient")) or _dsn_address(
                fields.get("Original-Recipient")
            )
            action = clean_text(fields.get("Action", ""), limit=_FIELD_MAX).lower() or None
            diagnostic = clean_text(fields.get("Diagnostic-Code", ""))
            status = _status(str(fields.get("Status", ""))) or _status(diagnostic)
            kind = classify(action=action, status=status)
            if kind is None and not action and not status:
                kind = _kind_from_code(diagnostic)
            if kind is not None and (recipient or status or action):
                failures.append(
                    Failure(
                        recipient=recipient,
                        kind=kind,
                        status=status,
                        action=action,
                        diagnostic=diagnostic,
                    )
                )
    return tuple(failures)


def _feedback(message: Message) -> tuple[str | None, tuple[Failure, ...]]:
    """An ARF report: only ``abuse`` (marked as spam) is a complaint we act on."""
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        groups = _field_groups(part)
        if not groups:
            return None, ()
        fields = groups[0]
        feedback_type = clean_text(fields.get("Feedback-Type", ""), limit=_FIELD_MAX).lower()
        if feedback_type != "abuse":
            return feedback_type or None, ()
        recipients = [
            _clean_address(address)
            for _, address in getaddresses([str(v) for v in fields.get_all("Original-Rcpt-To", [])])
        ]
        agent = clean_text(fields.get("User-Agent", ""), limit=_FIELD_MAX)
        diagnostic = clean_text(f"feedback-type abuse{f' from {agent}' if agent else ''}")
        return feedback_type, tuple(
            Failure(
                recipient=recipient or None,
                kind=BounceKind.COMPLAINT,
                status=None,
                action=None,
                diagnostic=diagnostic,
            )
            for recipient in (_unique(recipients) or [""])
        )
    return None, ()


def _heuristics(message: Message) -> tuple[Failure, ...]:
    """flufl.bounce's detectors for bounces that are not DSNs (old Exchange, qmail...)."""
    if _size(message) > _HEURISTIC_BYTES or _has_long_line(message):
        return ()
    if not message.get("From"):
        # flufl.bounce 6.0's Yale detector fails on a message without a From, and then
        # no detector after it runs; bounces always name the MTA's daemon there anyway.
        message["From"] = "MAILER-DAEMON"
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector's bug on odd input: no heuristic result, no crash
        return ()
    text = _body_text(message)
    failures = []
    for found, default in ((permanent, "5.0.0"), (temporary, "4.0.0")):
        for raw in sorted(found):
            recipient = _clean_address(raw.decode("ascii", "replace"))
            if not recipient:
                continue
            diagnostic = _near(text, recipient)
            status = _status(diagnostic) or default
            if status[0] != default[0]:
                status = default
            kind = classify(action=None, status=status) or BounceKind.SOFT
            failures.append(
                Failure(
                    recipient=recipient,
                    kind=kind,
                    status=status,
                    action="failed" if default == "5.0.0" else "delayed",
                    diagnostic=diagnostic,
                )
            )
    return tuple(failures)


def _original_headers(message: Message) -> Message | None:
    """The headers of the message that bounced or was reported, when they came back."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type in ("text/rfc822-headers", "text/global-headers"):
            text = _decoded(part)
            return HeaderParser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    return None


def _field_groups(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [group for group in payload if isinstance(group, Message)]
    text = payload if isinstance(payload, str) else ""
    parser = HeaderParser(policy=email.policy.compat32)
    return [
        parser.parsestr(block.strip() + "\n\n", headersonly=True)
        for block in re.split(r"\r?\n[ \t]*\r?\n", text)
        if block.strip()
    ]


def _dsn_address(value: object) -> str | None:
    """``rfc822; bob@example.org`` → bob@example.org."""
    if value is None:
        return None
    _, _, address = str(value).partition(";")
    return _clean_address(address or str(value)) or None


def _clean_address(value: str) -> str:
    address = clean_text(value, limit=ADDRESS_MAX + 2).strip(" <>").lower()
    if address.count("@") != 1 or " " in address or len(address) > ADDRESS_MAX:
        return ""
    return address


def _status(text: str) -> str | None:
    match = _STATUS.search(text)
    return ".".join(match.groups()) if match else None


def _kind_from_code(diagnostic: str) -> BounceKind | None:
    match = _SMTP_CODE.search(diagnostic)
    if match is None:
        return None
    return {"5": BounceKind.HARD, "4": BounceKind.SOFT}.get(match.group(1))


def _subject_token(message: Message) -> str | None:
    match = _UNSUBSCRIBE_SUBJECT.match(clean_text(message.get("Subject", ""), limit=300))
    return match.group(1)[:_TOKEN_MAX] if match else None


def _header_token(original: Message | None) -> str | None:
    if original is None:
        return None
    value = clean_text(" ".join(str(v) for v in original.get_all("List-Unsubscribe", [])))
    match = _UNSUBSCRIBE_IN_HEADER.search(value)
    return match.group(1)[:_TOKEN_MAX] if match else None


def _message_id(original: Message | None) -> str | None:
    return _angle_id(original.get("Message-ID", "")) if original is not None else None


def _inline_message_id(message: Message) -> str | None:
    """Where the original came back as plain text (Exim's "copy of the message"), or only
    its Message-ID as In-Reply-To (Gmail, Exchange)."""
    match = _INLINE_MESSAGE_ID.search(_body_text(message)[:_HEURISTIC_BYTES])
    found = _angle_id(match.group(1)) if match is not None else None
    return found or _angle_id(message.get("In-Reply-To", ""))


def _angle_id(value: object) -> str | None:
    """The <id> in a header value, cleaned first: it is looked up in the database, where
    PostgreSQL refuses a NUL, and a message that fails every run blocks the mailbox."""
    match = _ANGLE_ID.search(clean_text(value, limit=300))
    return match.group(0) if match else None


def _inline_token(message: Message) -> str | None:
    match = _UNSUBSCRIBE_IN_HEADER.search(_body_text(message)[:_HEURISTIC_BYTES])
    return match.group(1)[:_TOKEN_MAX] if match else None


def _body_text(message: Message) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(_decoded(part))
    return "\n".join(parts)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except (LookupError, UnicodeError):  # unknown, or a codec that fails anyway ("idna")
        return payload.decode("utf-8", "replace")


def _near(text: str, address: str) -> str:
    """The lines around the first mention of an address: most bounces explain it there."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if address in line.lower():
            return clean_text(" ".join(lines[number : number + 4]))
    return ""


def _size(message: Message) -> int:
    total = 0
    for part in message.walk():
        payload = part.get_payload()
        if isinstance(payload, str):
            total += len(payload)
    return total


def _has_long_line(message: Message) -> bool:
    """Decoded, as the detectors read it: base64 can hide a long line in short ones."""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and _LONG_LINE.search(payload):
            return True
    return False


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _worst(failures: tuple[Failure, ...]) -> Failure | None:
    for kind in (BounceKind.COMPLAINT, BounceKind.HARD, BounceKind.SOFT):
        for failure in failures:
            if failure.kind is kind:
                return failure
    return None
