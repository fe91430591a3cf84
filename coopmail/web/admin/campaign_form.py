"""The studio's form: what staff typed, read into the content and header the campaign use
cases take, and the kind's own fields offered as form fields.

The page decides nothing about a campaign: it hands the typed values to
``campaigns.drafts.prepare_campaign`` (which checks the header, the lists and renders once)
and shows that function's errors where they belong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from campaigns.compose import Unit
from campaigns.content import MAX_CONTENT_BYTES, Content
from campaigns.errors import ContentError
from campaigns.kinds import FieldType, KindField, default_value, get_kind
from campaigns.models import Campaign, SourceFormat
from campaigns.versions import Version, default_version
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from mailer.errors import InvalidHeader
from mailer.headers import parse_address
from subscribers.languages import LANGUAGES

if TYPE_CHECKING:
    from coopmail.web.admin.render import AdminPages

STUDIO_SOURCE = "studio"
SUBJECT_LIMIT = 1000
LINE_LIMIT = 2000
TEXT_LIMIT = 20_000
LISTS_MAX = 50


# How each declared type of field is typed in the form.
_SHAPES = {
    FieldType.TEXT: "line",
    FieldType.DATE: "line",
    FieldType.IMAGE: "line",
    FieldType.PARAGRAPH: "text",
    FieldType.LINES: "lines",
    # Made by the digest, not typed: carried through the form as it is (JSON in a hidden
    # field), so that editing an issue's introduction keeps its news items.
    FieldType.MONTHS: "carried",
}


@dataclass(frozen=True, kw_only=True)
class FormField:
    """One declared field of a kind as a form field: a line, a paragraph, or lines."""

    declared: KindField
    shape: str  # "line", "text" (a paragraph), "lines" (a list of lines) or "carried"

    @property
    def key(self) -> str:
        return self.declared.name

    @property
    def form_name(self) -> str:
        return f"meta_{self.declared.name}"


def kind_fields(kind: str) -> list[FormField]:
    """The fields the kind declares (campaigns/kinds.py): those typed by hand, and those
    the form only carries (the digest's months, made by the digest)."""
    declaration = get_kind(kind)
    if declaration is None:
        return []
    return [
        FormField(declared=declared, shape=_SHAPES[declared.type])
        for declared in declaration.fields
        if declared.type in _SHAPES
    ]


def kind_label(kind: str) -> str:
    """The msgid naming a kind (a staff template of its own is named by its file)."""
    declaration = get_kind(kind)
    return declaration.label if declaration is not None else kind


def placeholders(kind: str, *, language: str, unit: Unit, today: date) -> dict[str, str]:
    """What each empty field becomes, shown in it: the kind's default in the language."""
    shown = {}
    for field_ in kind_fields(kind):
        if field_.shape == "carried":
            continue
        value = default_value(field_.declared, language=language, unit=unit, today=today)
        shown[field_.form_name] = "\n".join(value) if isinstance(value, list) else str(value)
    return shown


@dataclass(frozen=True, kw_only=True)
class StudioForm:
    """The values of the editor, as typed (shown again as they were when one is wrong)."""

    kind: str = ""
    lists: list[str] = field(default_factory=list)
    subject: str = ""
    preheader: str = ""
    sender: str = ""
    reply_to: str = ""
    language: str = "en"
    format: str = SourceFormat.MARKDOWN.value
    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # form name -> typed text
    preview_to: str = ""

    @classmethod
    def read(cls, visit: Visit) -> StudioForm:
        kind = visit.field("kind", 100)
        return cls(
            kind=kind,
            lists=list(dict.fromkeys(n for n in visit.fields("lists", 100) if n))[:LISTS_MAX],
            subject=visit.field("subject", SUBJECT_LIMIT).strip(),
            preheader=visit.field("preheader", LINE_LIMIT).strip(),
            sender=visit.field("sender", LINE_LIMIT).strip(),
            reply_to=visit.field("reply_to", LINE_LIMIT).strip(),
            language=visit.field("language", 35).strip() or "en",
            format=visit.field("format", 20) or SourceFormat.MARKDOWN.value,
            body=visit.field("body", MAX_CONTENT_BYTES).replace("\r\n", "\n"),
            meta={
                spec.form_name: visit.field(
                    spec.form_name, MAX_CONTENT_BYTES if spec.shape == "carried" else TEXT_LIMIT
                ).replace("\r\n", "\n")
                for spec in kind_fields(kind)
            },
            preview_to=visit.field("preview_to", 320).strip(),
        )

    @classmethod
    def of(cls, campaign: Campaign, version: Version | None = None) -> StudioForm:
        """A saved campaign's values in the editor: its default version's, or those of
        ``version`` (a translation) with the settings every version shares."""
        written = version or default_version(campaign)
        meta = {}
        for spec in kind_fields(campaign.template):
            value = written.content.meta.get(spec.key)
            if spec.shape == "carried":
                meta[spec.form_name] = json.dumps(value, ensure_ascii=False) if value else ""
            elif isinstance(value, list):
                meta[spec.form_name] = "\n".join(str(item) for item in value)
            elif value is not None:
                meta[spec.form_name] = str(value)
        return cls(
            kind=campaign.template,
            lists=[mailing_list.name for mailing_list in campaign.lists],
            sender=campaign.from_address,
            reply_to=campaign.reply_to or "",
            language=written.language,
            format=written.content.format.value,
            body=written.content.body,
            meta=meta,
            subject=written.subject,
            preheader=written.preheader,
        )

    def problems(self, kinds: list[str], senders: list[str]) -> dict[str, str]:
        """Which fields are missing or not one of the choices: field -> the msgid to say."""
        found: dict[str, str] = {}
        if self.kind not in kinds:
            found["kind"] = words.CHOOSE_KIND
        if not self.lists:
            found["lists"] = words.CHOOSE_LISTS
        if not self.subject:
            found["subject"] = words.WRITE_SUBJECT
        if self.sender not in senders:
            found["sender"] = words.CHOOSE_SENDER
        if self.format not in {f.value for f in SourceFormat}:
            found["format"] = words.CHOOSE_FORMAT
        if self.language not in LANGUAGES:
            found["language"] = words.CHOOSE_LANGUAGE
        if self.reply_to:
            try:
                parse_address(self.reply_to)
            except InvalidHeader:
                found["reply_to"] = words.INVALID_EMAIL
        return found

    def content(self, *, translation: bool = False) -> Content:
        """The typed values as the content the use cases read (a file's front matter and
        body, without the file). A ``translation`` says only what a version has of its
        own: the settings it shares are the campaign's, whatever the form carried."""
        header: dict[str, Any] = {
            "subject": self.subject,
            "preheader": self.preheader,
            "language": self.language,
        }
        if not translation:
            header.update(template=self.kind, lists=list(self.lists), **{"from": self.sender})
            if self.reply_to:
                header["reply_to"] = self.reply_to
        meta: dict[str, Any] = {}
        for spec in kind_fields(self.kind):
            typed = self.meta.get(spec.form_name, "")
            if spec.shape == "carried":
                if typed.strip():
                    meta[spec.key] = _carried(typed, name=spec.key)
            elif spec.shape == "lines":
                lines = [line.strip() for line in typed.split("\n") if line.strip()]
                if lines:
                    meta[spec.key] = lines
            elif typed.strip():
                meta[spec.key] = typed.strip()
        fmt = SourceFormat(self.format)
        suffix = ".html" if fmt is SourceFormat.HTML else ".md"
        return Content(
            name=STUDIO_SOURCE + suffix,
            format=fmt,
            body=self.body,
            body_line=1,
            header=header,
            meta=meta,
        )


def _carried(typed: str, *, name: str) -> Any:
    """A carried field's JSON as the form brought it back (the kind checks its shape)."""
    try:
        return json.loads(typed)
    except ValueError:
        raise ContentError(f"{name} is not as the digest made it", source=name) from None


@dataclass(frozen=True, kw_only=True)
class ContentProblem:
    """A content error as the editor shows it: where (the body, the subject, a template
    file) and on which line, and what is wrong."""

    message: str
    line: int | None
    in_body: bool
    source: str

    @classmethod
    def of(cls, error: ContentError) -> ContentProblem:
        location = f"{error.source}, line {error.line}" if error.line else error.source
        message = str(error).removeprefix(f"{location}: ")
        return cls(
            message=message,
            line=error.line,
            in_body=error.source.startswith(STUDIO_SOURCE),
            source=error.source,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "line": self.line,
            "in_body": self.in_body,
            "source": self.source,
        }


def describe_problem(pages: AdminPages, visit: Visit, problem: ContentProblem) -> str:
    """A content problem in the visit's words, with its line: under the body, in the
    preview's frame, in the autosave's status."""
    say = pages.say
    if problem.in_body and problem.line:
        return say(visit, words.PROBLEM_IN_BODY, line=problem.line, problem=problem.message)
    if problem.line:
        return say(
            visit,
            words.PROBLEM_AT,
            source=problem.source,
            line=problem.line,
            problem=problem.message,
        )
    return say(visit, words.PROBLEM_IN, source=problem.source, problem=problem.message)
