"""Render a campaign once: Jinja2 sandbox, Markdown, premailer, then a skeleton to fill.

Rendering and inlining cost milliseconds; doing them once per campaign rather than once per
recipient is what lets a send run at the speed of the SMTP wire.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from campaigns.content import (
    Content,
    ImageSizes,
    markdown_to_html,
    read_content,
    size_html_images,
)
from campaigns.errors import ContentError, RenderLimitExceeded, UnknownTemplate
from campaigns.htmltext import html_to_text, wrap_paragraph
from campaigns.kinds import check_fields, complete_fields, get_kind
from campaigns.models import SourceFormat
from campaigns.sandbox import EmailTemplateLoader, LimitedSandbox, LimitReached, RenderLimits
from campaigns.sanitise import sanitise_html
from campaigns.slots import (
    Skeleton,
    SlotRegistry,
    compile_header,
    compile_skeleton,
    mark_safe,
)
from campaigns.variants import Conditions, find_conditions
from subscribers.errors import InvalidLanguage
from subscribers.languages import best_language, check_language, writing_language
from templates import CAMPAIGN_KINDS, SYSTEM_MAILS, TEMPLATES_DIR, sample_path
from templates.catalogs import catalog_languages, gettext, install, speaking


def N_(message: str) -> str:
    """Marks a msgid for the catalogs (`make messages` extracts N_); translated when used."""
    return message


# The built-in unit's texts, ours as much as the layout's words: the catalogs translate them.
_BUILT_IN_NAME = N_("Cooperatives Unit")
_BUILT_IN_DEPARTMENT = N_("Enterprises Department")
_BUILT_IN_PLACE = N_("Geneva")
# The street keeps its name in every language.
_BUILT_IN_ADDRESS = ("Route des Coopératives 4", N_("1211 Geneva"), N_("Switzerland"))
TRANSLATABLE = ("name", "department", "about", "place", "signature", "address_lines")
"""The unit's texts said in each language; its address and website are the same in all."""


@dataclass(frozen=True, kw_only=True)
class Unit:
    """Who sends: the letterhead and the footer's about block and address."""

    name: str = _BUILT_IN_NAME
    department: str = _BUILT_IN_DEPARTMENT
    email: str = "coop@example.org"
    website: str = "https://www.example.org/cooperatives"
    address_lines: tuple[str, ...] = _BUILT_IN_ADDRESS
    about: str = ""
    # The letters' defaults: where they are written from and who signs them (one line
    # each; none: the unit's name and department).
    place: str = _BUILT_IN_PLACE
    signature: tuple[str, ...] = ()
    # Per language, the words above as said in it ([translations.fr] in unit.toml, or the
    # catalogs for the built-in unit's), so that a French mail's footer is French too; a
    # language without them gets the words above.
    translations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def as_context(self, language: str = "en") -> dict[str, Any]:
        said = self.said_in(language)
        return {
            "name": said["name"],
            "department": said["department"],
            "email": self.email,
            "website": self.website,
            "address_lines": list(said["address_lines"]),
            "about": said["about"],
            "place": said["place"],
            "signature": list(said["signature"] or (said["name"], said["department"])),
        }

    def said_in(self, language: str) -> dict[str, Any]:
        """The translatable texts in ``language`` (``fr-CA`` reads the French ones), each
        falling back to the unit's own; the signature may be empty (name and department)."""
        said = self.translations.get(
            best_language([language], available=self.translations) or "", {}
        )
        return {key: said.get(key, getattr(self, key)) for key in TRANSLATABLE}

    def with_texts(self, texts: Mapping[str, Mapping[str, Any]]) -> Unit:
        """This unit with ``texts`` (language: {key: value}) over its own: English's replace
        the unit's words (and any translation of them that did not come with them), each
        other language's its translation. What staff set in the admin overrides unit.toml."""
        unit = self
        english = dict(texts.get("en", {}))
        if english:
            kept = {
                language: {k: v for k, v in words.items() if k not in english}
                for language, words in unit.translations.items()
            }
            unit = replace(unit, translations=kept, **english)
        merged = {language: dict(words) for language, words in unit.translations.items()}
        for language, words in texts.items():
            if language != "en" and words:
                merged[language] = {**merged.get(language, {}), **words}
        return replace(unit, translations=merged)


def built_in_unit() -> Unit:
    """The unit coopmail ships with, said in every language the catalogs write in."""
    samples = TEMPLATES_DIR / "samples"
    translations: dict[str, dict[str, Any]] = {}
    for language in catalog_languages():
        words: dict[str, Any] = {
            "name": gettext(_BUILT_IN_NAME, language=language),
            "department": gettext(_BUILT_IN_DEPARTMENT, language=language),
            "place": gettext(_BUILT_IN_PLACE, language=language),
            "address_lines": tuple(gettext(line, language=language) for line in _BUILT_IN_ADDRESS),
        }
        about = samples / f"about.{language}.md"
        if about.is_file():
            words["about"] = _sample_body(about)
        translations[language] = words
    return Unit(about=_sample_body(samples / "about.md"), translations=translations)


def load_unit(templates_dir: Path | None) -> Unit:
    """The unit as described by ``unit.toml`` in the staff templates folder, if there is one,
    over the built-in one: a text unit.toml sets loses the built-in translations of it."""
    unit = built_in_unit()
    path = templates_dir / "unit.toml" if templates_dir else None
    if path is None or not path.is_file():
        return unit
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ContentError(f"cannot be read ({error})", source=str(path)) from None
    known = set(Unit.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ContentError(
            f"unknown key {unknown[0]!r}; known: {', '.join(sorted(known))}", source=str(path)
        )
    for key in ("address_lines", "signature"):
        if key in data:
            data[key] = _lines(data[key], key=key, source=str(path))
    translations = _translations(data.pop("translations", {}), source=str(path))
    texts = {"en": {k: v for k, v in data.items() if k in TRANSLATABLE}, **translations}
    others = {k: v for k, v in data.items() if k not in TRANSLATABLE}
    return replace(unit, **others).with_texts(texts)


def _lines(value: Any, *, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return tuple(value)
    raise ContentError(f"{key} must be a list of lines of text", source=source)


def _translations(data: Any, *, source: str) -> dict[str, dict[str, Any]]:
    """``[translations.<language>]`` tables of name, department and about, checked."""
    if not isinstance(data, dict):
        raise ContentError("translations must be tables such as [translations.fr]", source=source)
    checked: dict[str, dict[str, Any]] = {}
    for language, words in data.items():
        tag = _language_tag(language)
        if not isinstance(words, dict) or tag is None:
            raise ContentError(
                f"translations.{language} must be a table named by a language such as fr",
                source=source,
            )
        for key, value in words.items():
            lines = key in ("signature", "address_lines")
            if key not in TRANSLATABLE or not (isinstance(value, str) or lines):
                raise ContentError(
                    f"translations.{language}.{key}: only the texts {', '.join(TRANSLATABLE)} "
                    "are translated",
                    source=source,
                )
        checked[tag] = dict(words)
        for key in ("signature", "address_lines"):
            if key in words:
                checked[tag][key] = _lines(
                    words[key], key=f"translations.{language}.{key}", source=source
                )
    return checked


def _language_tag(value: str) -> str | None:
    try:
        return check_language(value)
    except InvalidLanguage:
        return None


def _sample_body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        text = text[text.index("\n---", 3) + 5 :]
    return " ".join(text.split())


@dataclass(frozen=True, kw_only=True)
class Composition:
    """A campaign rendered once: subject, HTML and text skeletons awaiting personal values."""

    subject: Skeleton
    html: Skeleton
    text: Skeleton
    fields: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, subject: Skeleton, html: Skeleton, text: Skeleton) -> Composition:
        return cls(
            subject=subject, html=html, text=text, fields=subject.fields | html.fields | text.fields
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject.as_json(),
            "html": self.html.as_json(),
            "text": self.text.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Composition:
        return cls.of(
            subject=Skeleton.from_json(data["subject"]),
            html=Skeleton.from_json(data["html"]),
            text=Skeleton.from_json(data["text"]),
        )


# The slot registry of the rendering under way in this thread (or task): one Composer may
# render for the web pages, the scheduler and a worker at once.
_rendering: ContextVar[SlotRegistry] = ContextVar("coopmail_rendering")


def _fallback(value: Any, fallback: str) -> Any:
    """The template filter ``fallback``: the value, or ``fallback`` when it is empty."""
    return _rendering.get().fallback_filter(value, fallback)


def _paragraph(text: Any, width: int = 72) -> str:
    """The template filter ``paragraph``: ``text`` wrapped at ``width`` columns, each
    personal placeholder on a line of its own."""
    return wrap_paragraph(str(text), width=width, alone=_rendering.get().pattern)


UnitTexts = Callable[[], Mapping[str, Mapping[str, Any]]]
"""The unit's texts set since unit.toml, per language (``Unit.with_texts`` takes them)."""


class Composer:
    """Renders campaigns from the built-in templates and, first, the staff's own folder."""

    def __init__(
        self,
        *,
        templates_dir: Path | None = None,
        unit: Unit | None = None,
        limits: RenderLimits | None = None,
        image_sizes: ImageSizes | None = None,
        unit_texts: UnitTexts | None = None,
    ) -> None:
        """``image_sizes``: where the width and height of a Markdown image come from (the
        media library's, campaigns.media.sizes); without it, images have none.
        ``unit_texts``: the unit's words staff set in the admin, over ``unit`` (unit.toml)."""
        self.templates_dir = templates_dir
        self._image_sizes = image_sizes
        self.file_unit = unit or load_unit(templates_dir)
        # The texts staff set since (the shell's database), read for every rendering.
        self.unit_texts = unit_texts
        self._with_texts: tuple[Mapping[str, Mapping[str, Any]], Unit] | None = None
        search = [str(templates_dir)] if templates_dir else []
        # Only mail templates may be loaded, included or extended: never a coopmail.toml
        # or a key that happens to sit beside the staff's templates.
        self._loader = EmailTemplateLoader([*search, str(TEMPLATES_DIR)])
        self.environment = LimitedSandbox(
            loader=self._loader,
            autoescape=lambda name: not (name or "").endswith(".txt"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            limits=limits,
        )
        self.environment.filters["fallback"] = _fallback
        self.environment.filters["paragraph"] = _paragraph
        install(self.environment)  # our words ({% trans %}, _()) in the mail's language

    @property
    def unit(self) -> Unit:
        """Who sends, as unit.toml says with the texts staff set over it: read afresh by
        each rendering (and page), so a change reaches a running process."""
        if self.unit_texts is None:
            return self.file_unit
        texts = self.unit_texts()
        cached = self._with_texts
        if cached is None or cached[0] is not texts:
            cached = self._with_texts = (texts, self.file_unit.with_texts(texts))
        return cached[1]

    def kinds(self) -> list[str]:
        """Campaign templates: email/<kind>.html with a matching .txt, not partials."""
        names = set(self.environment.list_templates(extensions=["html"]))
        return sorted(
            name[len("email/") : -len(".html")]
            for name in names
            if name.startswith("email/")
            and name.count("/") == 1
            and not name.startswith(("email/_", "email/base"))
            and name[:-5] + ".txt" in set(self.environment.list_templates(extensions=["txt"]))
        )

    def compose(
        self,
        *,
        content: Content,
        template: str,
        subject: str,
        preheader: str = "",
        language: str = "en",
        today: dt.date | None = None,
        known: Mapping[str, Any] | None = None,
    ) -> Composition:
        """The campaign in ``language``, the tag of the content's language: the layout's
        words are in it when we write in it, else in English. ``known``: the personal
        fields the template tests, as one variant has them (campaigns.variants).

        A built-in kind's fields left out take their defaults (``campaigns.kinds``), the
        date being ``today`` (the day it is sent; by default the day in UTC)."""
        if template not in self.kinds():
            raise UnknownTemplate(template, self.kinds())
        meta: dict[str, Any] = dict(content.meta)
        kind = get_kind(template)
        if kind is not None:
            check_fields(kind, meta=meta, source=content.name)
            meta = complete_fields(
                kind,
                meta=meta,
                language=language,
                unit=self.unit,
                today=today or dt.datetime.now(dt.UTC).date(),
            )
        if known is None:  # a draft checked alone: every tested field unset
            known = self.conditions(content=content, template=template, subject=subject).blank()
        registry = SlotRegistry()
        context = self._context(
            registry,
            subject=subject,
            preheader=preheader,
            language=language,
            meta=meta,
            known=known,
        )
        # One budget for the body and the layout, in the mail's language.
        with self.environment.budget(), speaking(writing_language(language)):
            self._render_subject(context)
            with _reported(content.name, line_offset=content.body_line - 1):
                body = self._render(self._from_string(content.body, autoescape=True), context)
            # Markdown lets no raw HTML through; HTML content goes through the sanitiser.
            body_html = (
                markdown_to_html(body, image_sizes=self._image_sizes)
                if content.format is SourceFormat.MARKDOWN
                else size_html_images(sanitise_html(body), image_sizes=self._image_sizes)
            )
            context["content"] = mark_safe(body_html)
            context["content_text"] = html_to_text(body_html)
            return self._finish(
                registry, context, f"email/{template}", subject=subject, source=content.name
            )

    def conditions(self, *, content: Content, template: str, subject: str) -> Conditions:
        """The personal fields the campaign's body, subject and template test."""
        with _reported(content.name, line_offset=content.body_line - 1):
            return find_conditions(
                self.environment,
                sources=[content.body, subject],
                templates=[f"email/{template}.html", f"email/{template}.txt"],
            )

    def compose_system(
        self,
        *,
        name: str,
        subject: str,
        preheader: str = "",
        language: str = "en",
        meta: dict[str, Any] | None = None,
    ) -> Composition:
        """A transactional mail (confirm-subscription, welcome, unsubscribed).

        Written in ``language`` when we write in it (``fr-CA`` is French), else in English,
        whose lang attribute then says so: a mail never claims a language it is not
        written in. ``subject`` is a template too, rendered in the same language."""
        if name not in SYSTEM_MAILS:
            raise UnknownTemplate(name, list(SYSTEM_MAILS))
        written_in = writing_language(language)
        registry = SlotRegistry()
        context = self._context(
            registry, subject=subject, preheader=preheader, language=written_in, meta=meta or {}
        )
        context["content"], context["content_text"] = mark_safe(""), ""
        with self.environment.budget(), speaking(written_in):
            self._render_subject(context)
            return self._finish(
                registry, context, f"email/system/{name}", subject=subject, source=name
            )

    def check_template(self, path: Path) -> None:
        """Raise ContentError (file and line) if a staff template cannot render.

        A file named after a kind (digest.html) renders with that kind's sample front matter;
        any other with a stand-in where every key is a sample string."""
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ContentError(f"cannot be read ({error})", source=str(path)) from None
        registry = SlotRegistry()
        kind = path.name.split(".")[0]
        meta: dict[str, Any] = (
            read_content(sample_path(kind)).meta if kind in CAMPAIGN_KINDS else _AnyMeta()
        )
        context = self._context(
            registry,
            subject="Subject",
            preheader="Preheader",
            language="en",
            meta=meta,
            unit=self.file_unit,  # a check needs no database
        )
        context["content"], context["content_text"] = mark_safe("<p>Body</p>"), "Body"
        with self.environment.budget(), speaking("en"), _reported(str(path)):
            self._render_subject(context)
            template = self._from_string(source, autoescape=path.suffix != ".txt")
            self._render(template, context)

    def _context(
        self,
        registry: SlotRegistry,
        *,
        subject: str,
        preheader: str,
        language: str,
        meta: Any,
        known: Mapping[str, Any] | None = None,
        unit: Unit | None = None,
    ) -> dict[str, Any]:
        _rendering.set(registry)
        return {
            "lang": language,
            "subject": subject,
            "preheader": preheader,
            "meta": meta,
            "unit": (unit or self.unit).as_context(language),
            **registry.context(known),
        }

    def _render_subject(self, context: dict[str, Any]) -> None:
        """Render the subject first, in the mail's language, so that <title> and headings
        show "Hi Amara", not the template text "Hi {{ subscriber.name }}"; its personal
        fields stay slots."""
        with _reported("the subject"):
            template = self._from_string(context["subject"], autoescape=False)
            context["subject"] = " ".join(self._render(template, context).split())

    def _finish(
        self,
        registry: SlotRegistry,
        context: dict[str, Any],
        stem: str,
        *,
        subject: str,
        source: str,
    ) -> Composition:
        with _reported(source):
            html = self._render(self.environment.get_template(f"{stem}.html"), context)
            if _REMOTE_STYLESHEET.search(html):
                raise ContentError(
                    "links a remote stylesheet, which mail programs ignore; put the CSS in a "
                    "<style> block",
                    source=f"{stem}.html",
                )
            text = self._render(self.environment.get_template(f"{stem}.txt"), context)
            subject_text = context["subject"]
        return Composition.of(
            subject=compile_header(" ".join(subject_text.split()), registry=registry),
            html=compile_skeleton(inline_css(html), registry=registry, html_document=True),
            text=compile_skeleton(_tidy_text(text), registry=registry, html_document=False),
        )

    def _render(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        return self.environment.render(template, context)

    def _from_string(self, source: str, *, autoescape: bool) -> jinja2.Template:
        if autoescape:
            return self.environment.from_string(source)
        plain = self.environment.overlay(autoescape=False)
        return plain.from_string(source)


class _AnyMeta(dict[str, Any]):
    """Front matter for checking a template alone: every key exists, as a sample string."""

    def __missing__(self, key: str) -> str:
        return f"sample {key}"

    def __getattr__(self, key: str) -> str:
        return str(self[key])


_REMOTE_STYLESHEET = re.compile(r"<link\b[^>]*\bstylesheet\b", re.IGNORECASE)


def inline_css(html: str) -> str:
    """Move the stylesheet into style attributes, keeping @media rules in a <style> block.

    Never on the network: nothing is fetched while rendering. premailer (with lxml and
    cssutils, some 25 MB) is loaded here, so a worker that only fills skeletons never does.
    A CSS height never becomes an attribute: ``height: auto`` would overwrite the pixel
    height an image carries (and ``height="auto"`` means nothing to a mail program).
    """
    from premailer import Premailer

    return str(
        Premailer(
            html,
            allow_network=False,
            remove_classes=False,
            disable_validation=True,
            disable_basic_attributes=["height"],
            cssutils_logging_level=logging.CRITICAL,
        ).transform()
    )


def _tidy_text(text: str) -> str:
    """Trailing spaces off and at most one blank line in a row, as templates leave them."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip("\n") + "\n"


@contextmanager
def _reported(source: str, *, line_offset: int = 0) -> Iterator[None]:
    """Template errors become one ContentError naming the file and line."""
    try:
        yield
    except LimitReached as error:
        filename, line = _template_frame(error)
        offset = line_offset if filename == "<template>" else 0
        raise RenderLimitExceeded(
            limit=error.limit.value,
            maximum=error.maximum,
            source=_display(filename or source, source),
            line=line + offset if line else None,
        ) from None
    except jinja2.TemplateSyntaxError as error:
        name = error.filename or error.name or source
        offset = line_offset if name == "<template>" or not error.filename else 0
        raise ContentError(
            error.message or "syntax error",
            source=_display(name, source),
            line=(error.lineno or 0) + offset,
        ) from None
    except jinja2.TemplateNotFound as error:
        raise ContentError(f"the template {error.name!r} does not exist", source=source) from None
    except (
        jinja2.TemplateError,
        TypeError,
        AttributeError,
        ValueError,
        ArithmeticError,  # 1/0, range(10**9), 10**10**10
        LookupError,  # '{0}'.format_map({}), [][0] through a method
        RecursionError,  # a macro that calls itself
    ) as error:
        filename, line = _template_frame(error)
        offset = line_offset if filename == "<template>" else 0
        raise ContentError(
            _describe(error),
            source=_display(filename or source, source),
            line=line + offset if line else None,
        ) from None


def _template_frame(error: BaseException) -> tuple[str | None, int | None]:
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename == "<template>" or frame.filename.endswith((".html", ".txt")):
            return frame.filename, frame.lineno
    return None, None


def _display(name: str, source: str) -> str:
    if name == "<template>":
        return source
    try:
        return str(Path(name).relative_to(TEMPLATES_DIR.parent))
    except ValueError:
        return name


def _describe(error: BaseException) -> str:
    if isinstance(error, jinja2.exceptions.SecurityError):
        return f"not allowed in a template: {error}"
    if isinstance(error, jinja2.UndefinedError):
        return f"{error.message}; check the spelling, or add it to the front matter"
    if isinstance(error, RecursionError):
        return "a macro or loop calls itself without end"
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, LookupError):
        return f"no such item or placeholder: {error}"
    return str(error)
