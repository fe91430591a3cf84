"""The kinds of campaign and the fields each one takes: one declaration, read by everybody.

The composer fills the fields a campaign leaves out with their defaults, the command line
writes a starter file from them, and the API and the admin build their forms from them, so
a letter with only a subject and a body renders, and no form asks for a field the template
never reads. Labels and help are msgids (English), translated where they are shown.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from campaigns.errors import ContentError
from subscribers.languages import writing_language
from templates.catalogs import format_date, gettext

if TYPE_CHECKING:
    from campaigns.compose import Unit


def N_(message: str) -> str:
    """Marks a msgid for the catalogs (`make messages` extracts N_); translated when shown."""
    return message


class FieldType(enum.StrEnum):
    """What a field holds, so that a form knows which control to show."""

    TEXT = "text"  # one line
    PARAGRAPH = "paragraph"  # a few sentences, one paragraph
    LINES = "lines"  # a list of lines (a signature)
    DATE = "date"  # a date written as text, or 2026-11-21 to be written in the language
    IMAGE = "image"  # the address of an image
    MONTHS = "months"  # the digest's news, grouped by month (made by the digest)


class Default(enum.StrEnum):
    """Where a field's default comes from when it is not a fixed text."""

    NONE = "none"  # empty: the template leaves the part out
    SEND_DATE = "send_date"  # the day it is sent, written in the campaign's language
    UNIT_PLACE = "unit_place"  # unit.toml's place
    UNIT_SIGNATURE = "unit_signature"  # unit.toml's signature, else its name and department
    WORDS = "words"  # a phrase in the campaign's language, from the catalogs


@dataclass(frozen=True, kw_only=True)
class KindField:
    name: str
    type: FieldType
    label: str  # msgid
    help: str  # msgid
    default: Default = Default.NONE
    words: str = ""  # the msgid of the phrase when default is WORDS

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "label": self.label,
            "help": self.help,
            "default": self.default.value,
            "words": self.words or None,
        }


@dataclass(frozen=True, kw_only=True)
class Kind:
    name: str
    label: str  # msgid
    body_help: str  # msgid: what the body holds
    fields: tuple[KindField, ...]

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "body_help": self.body_help,
            "fields": [f.as_json() for f in self.fields],
        }


_IMAGE_FIELDS = (
    KindField(
        name="image",
        type=FieldType.IMAGE,
        label=N_("Image"),
        help=N_("An image shown under the lead: its https address."),
    ),
    KindField(
        name="image_alt",
        type=FieldType.TEXT,
        label=N_("Image description"),
        help=N_("What the image shows, for readers who cannot see it. Needed with an image."),
    ),
    KindField(
        name="image_caption",
        type=FieldType.TEXT,
        label=N_("Caption"),
        help=N_("A line shown under the image."),
    ),
)

KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="solidarity-letter",
            label=N_("Letter of solidarity"),
            body_help=N_("The letter, between the salutation and the sign-off."),
            fields=(
                KindField(
                    name="place",
                    type=FieldType.TEXT,
                    label=N_("Place"),
                    help=N_("Where the letter is written from. Default: the unit's place."),
                    default=Default.UNIT_PLACE,
                ),
                KindField(
                    name="date",
                    type=FieldType.DATE,
                    label=N_("Date"),
                    help=N_("The letter's date. Default: the day it is sent."),
                    default=Default.SEND_DATE,
                ),
                KindField(
                    name="salutation",
                    type=FieldType.TEXT,
                    label=N_("Salutation"),
                    help=N_("The greeting before the letter."),
                    default=Default.WORDS,
                    words=N_("Dear colleagues and friends,"),
                ),
                KindField(
                    name="signoff",
                    type=FieldType.TEXT,
                    label=N_("Sign-off"),
                    help=N_("The words before the signature."),
                    default=Default.WORDS,
                    words=N_("In solidarity,"),
                ),
                KindField(
                    name="signature",
                    type=FieldType.LINES,
                    label=N_("Signature"),
                    help=N_("One line each. Default: the unit's signature."),
                    default=Default.UNIT_SIGNATURE,
                ),
            ),
        ),
        Kind(
            name="feature",
            label=N_("Interview"),
            body_help=N_("Each question a ### heading, the answer in the paragraphs after it."),
            fields=(
                KindField(
                    name="intro",
                    type=FieldType.PARAGRAPH,
                    label=N_("Introduction"),
                    help=N_("A few sentences before the interview."),
                ),
                KindField(
                    name="interviewee",
                    type=FieldType.TEXT,
                    label=N_("Interviewee"),
                    help=N_("The name of the person interviewed."),
                ),
                KindField(
                    name="role",
                    type=FieldType.TEXT,
                    label=N_("Role"),
                    help=N_("What the person does, shown after the name."),
                ),
            ),
        ),
        Kind(
            name="news-article",
            label=N_("News article"),
            body_help=N_("The article: sections as ## headings, lists as you like."),
            fields=(
                KindField(
                    name="dateline",
                    type=FieldType.TEXT,
                    label=N_("Dateline"),
                    help=N_("Place and date the news comes from."),
                ),
                KindField(
                    name="lead",
                    type=FieldType.PARAGRAPH,
                    label=N_("Lead"),
                    help=N_("The opening paragraph that sums up the news."),
                ),
                *_IMAGE_FIELDS,
            ),
        ),
        Kind(
            name="digest",
            label=N_("Digest"),
            body_help=N_("An optional introduction before the news items."),
            fields=(
                KindField(
                    name="months",
                    type=FieldType.MONTHS,
                    label=N_("News items"),
                    help=N_("The news, grouped by month; the digest fills them in."),
                ),
            ),
        ),
    )
}


def get_kind(name: str) -> Kind | None:
    """The declaration of a built-in kind; None for a staff template of its own."""
    return KINDS.get(name)


@dataclass(frozen=True, kw_only=True)
class UnknownFields:
    """A warning, not an error: fields the kind does not read, perhaps misspelt."""

    kind: str
    fields: tuple[str, ...]
    known: tuple[str, ...]

    def __str__(self) -> str:
        names = ", ".join(self.fields)
        return f"{self.kind} does not use {names}; its fields are: {', '.join(self.known)}"


def check_fields(kind: Kind, *, meta: Mapping[str, Any], source: str) -> list[UnknownFields]:
    """Refuse a field of the wrong type (a ContentError naming it); warn of unknown ones."""
    for declared in kind.fields:
        if declared.name in meta and meta[declared.name] is not None:
            _check_type(declared, meta[declared.name], source=source)
    unknown = tuple(sorted(set(meta) - set(kind.field_names())))
    if not unknown:
        return []
    return [UnknownFields(kind=kind.name, fields=unknown, known=kind.field_names())]


def _check_type(declared: KindField, value: Any, *, source: str) -> None:
    scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
    if declared.type is FieldType.LINES:
        fine = scalar or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        expected = "a line of text or a list of lines"
    elif declared.type is FieldType.MONTHS:
        fine = isinstance(value, list) and all(isinstance(v, dict) for v in value)
        expected = "a list of months, each with a label and items"
    else:
        fine = scalar
        expected = "text"
    if not fine:
        raise ContentError(f"{declared.name} must be {expected}", source=source, line=2)


def complete_fields(
    kind: Kind,
    *,
    meta: Mapping[str, Any],
    language: str,
    unit: Unit,
    today: dt.date,
) -> dict[str, Any]:
    """The fields the template reads: those given, then each missing one's default.

    Unknown fields are kept (a staff template may read them); the warning said so."""
    filled = dict(meta)
    for declared in kind.fields:
        value = meta.get(declared.name)
        if value is None or value == "":
            filled[declared.name] = default_value(
                declared, language=language, unit=unit, today=today
            )
        else:
            filled[declared.name] = _normalised(declared, value, language=language)
    return filled


def default_value(declared: KindField, *, language: str, unit: Unit, today: dt.date) -> Any:
    """A field's default in ``language``: what the studio shows in an empty field."""
    written = writing_language(language)
    if declared.default is Default.SEND_DATE:
        return format_date(today, language=written)
    if declared.default is Default.UNIT_PLACE:
        return unit.as_context(language)["place"]
    if declared.default is Default.UNIT_SIGNATURE:
        return list(unit.as_context(language)["signature"])
    if declared.default is Default.WORDS:
        return gettext(declared.words, language=written)
    if declared.type in (FieldType.LINES, FieldType.MONTHS):
        return []
    return ""


def _normalised(declared: KindField, value: Any, *, language: str) -> Any:
    if declared.type is FieldType.LINES and not isinstance(value, list):
        return [str(value)]
    if declared.type is FieldType.DATE:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)  # "21 November 2026", as written
        return format_date(day, language=writing_language(language))
    if declared.type in (FieldType.TEXT, FieldType.PARAGRAPH, FieldType.IMAGE):
        return str(value)
    return value


def starter(kind: Kind, *, lists: Sequence[str] = ()) -> str:
    """A content file to start from: the header every campaign needs, then each field of
    the kind commented out with what it is for and its default, then the body's hint."""
    list_line = f"[{', '.join(lists)}]" if lists else "[]"
    lines = [
        "---",
        "# Required: the subject and the lists it goes to.",
        "subject:",
        "# preheader: the line mail programs show after the subject",
        f"template: {kind.name}",
        f"lists: {list_line}",
        "# language: en",
        "# from: a sender's address; default: the configured sender",
        "#",
        f"# The body, after the closing ---: {kind.body_help}",
        "#",
        f"# The fields of this kind ({kind.label}); each is optional.",
    ]
    for declared in kind.fields:
        lines.append(f"# {declared.name}: ({declared.type.value}) {declared.help}")
        if declared.default is Default.WORDS:
            lines.append(f"#   default in English: {declared.words}")
    lines += ["---", ""]
    return "\n".join(lines)
