"""Render a campaign once: Jinja2 sandbox, Markdown, premailer, then a skeleton to fill.

Rendering and inlining cost milliseconds; doing them once per campaign rather than once per
recipient is what lets a send run at the speed of the SMTP wire.
"""

from __future__ import annotations

import logging
import re
import tomllib
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from campaigns.content import Content, markdown_to_html, read_content
from campaigns.errors import ContentError, UnknownTemplate
from campaigns.htmltext import html_to_text
from campaigns.models import SourceFormat
from campaigns.slots import (
    Skeleton,
    SlotRegistry,
    compile_header,
    compile_skeleton,
    mark_safe,
)
from templates import CAMPAIGN_KINDS, SYSTEM_MAILS, TEMPLATES_DIR, sample_path


@dataclass(frozen=True, kw_only=True)
class Unit:
    """Who sends: the letterhead and the footer's about block and address."""

    name: str = "Cooperatives Unit"
    department: str = "Enterprises Department"
    email: str = "coop@example.org"
    website: str = "https://www.example.org/cooperatives"
    address_lines: tuple[str, ...] = ("Route des Coopératives 4", "1211 Geneva", "Switzerland")
    about: str = ""
    # Per language, the words above as said in it ([translations.fr] in unit.toml), so that a
    # French mail's footer is French too; a language without them gets the words above.
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def as_context(self, language: str = "en") -> dict[str, Any]:
        said = self.translations.get(language.partition("-")[0].lower(), {})
        return {
            "name": said.get("name", self.name),
            "department": said.get("department", self.department),
            "email": self.email,
            "website": self.website,
            "address_lines": list(self.address_lines),
            "about": said.get("about", self.about),
        }


_TRANSLATABLE = ("name", "department", "about")
_PRIMARY_LANGUAGE = re.compile(r"[a-z]{2,3}")
# A folder of system mails in a language: "fr", "pt-br"; never a path.
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def load_unit(templates_dir: Path | None) -> Unit:
    """The unit as described by ``unit.toml`` in the staff templates folder, if there is one."""
    about = _sample_body(TEMPLATES_DIR / "samples" / "about.md")
    unit = Unit(about=about)
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
    if "address_lines" in data:
        data["address_lines"] = tuple(data["address_lines"])
    if "translations" in data:
        data["translations"] = _translations(data["translations"], source=str(path))
    return replace(unit, **data)


def _translations(data: Any, *, source: str) -> dict[str, dict[str, str]]:
    """``[translations.<language>]`` tables of name, department and about, checked."""
    if not isinstance(data, dict):
        raise ContentError("translations must be tables such as [translations.fr]", source=source)
    checked: dict[str, dict[str, str]] = {}
    for language, words in data.items():
        if not isinstance(words, dict) or not _PRIMARY_LANGUAGE.fullmatch(language):
            raise ContentError(
                f"translations.{language} must be a table named by a language such as fr",
                source=source,
            )
        for key, value in words.items():
            if key not in _TRANSLATABLE or not isinstance(value, str):
                raise ContentError(
                    f"translations.{language}.{key}: only the texts {', '.join(_TRANSLATABLE)} "
                    "are translated",
                    source=source,
                )
        checked[language] = dict(words)
    return checked


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


class Composer:
    """Renders campaigns from the built-in templates and, first, the staff's own folder."""

    def __init__(self, *, templates_dir: Path | None = None, unit: Unit | None = None) -> None:
        self.templates_dir = templates_dir
        self.unit = unit or load_unit(templates_dir)
        search = [str(templates_dir)] if templates_dir else []
        self._loader = jinja2.FileSystemLoader([*search, str(TEMPLATES_DIR)])
        self.environment = SandboxedEnvironment(
            loader=self._loader,
            autoescape=lambda name: not (name or "").endswith(".txt"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.environment.filters["fallback"] = _fallback

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
    ) -> Composition:
        if template not in self.kinds():
            raise UnknownTemplate(template, self.kinds())
        registry = SlotRegistry()
        context = self._context(
            registry, subject=subject, preheader=preheader, language=language, meta=content.meta
        )
        with _reported(content.name, line_offset=content.body_line - 1):
            body = self._from_string(content.body, autoescape=True).render(context)
        body_html = markdown_to_html(body) if content.format is SourceFormat.MARKDOWN else body
        context["content"] = mark_safe(body_html)
        context["content_text"] = html_to_text(body_html)
        return self._finish(
            registry, context, f"email/{template}", subject=subject, source=content.name
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

        Written in ``language`` when email/system/<language>/<name> exists, else the English
        original, whose lang attribute then says English: a mail never claims a language it
        is not written in."""
        if name not in SYSTEM_MAILS:
            raise UnknownTemplate(name, list(SYSTEM_MAILS))
        stem, language = self._system_variant(name, language)
        registry = SlotRegistry()
        context = self._context(
            registry, subject=subject, preheader=preheader, language=language, meta=meta or {}
        )
        context["content"], context["content_text"] = mark_safe(""), ""
        return self._finish(
            registry, context, stem, subject=subject, source=stem.removeprefix("email/system/")
        )

    def _system_variant(self, name: str, language: str) -> tuple[str, str]:
        """The template stem of a system mail in ``language``, and the language it is in."""
        stem = f"email/system/{language}/{name}"
        if language != "en" and _LANGUAGE_TAG.fullmatch(language):
            try:
                for suffix in (".html", ".txt"):
                    self._loader.get_source(self.environment, stem + suffix)
            except jinja2.TemplateNotFound:
                pass
            else:
                return stem, language
        return f"email/system/{name}", "en"

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
            registry, subject="Subject", preheader="Preheader", language="en", meta=meta
        )
        context["content"], context["content_text"] = mark_safe("<p>Body</p>"), "Body"
        with _reported(str(path)):
            template = self._from_string(source, autoescape=path.suffix != ".txt")
            template.render(context)

    def _context(
        self,
        registry: SlotRegistry,
        *,
        subject: str,
        preheader: str,
        language: str,
        meta: Any,
    ) -> dict[str, Any]:
        _rendering.set(registry)
        return {
            "lang": language,
            "subject": subject,
            "preheader": preheader,
            "meta": meta,
            "unit": self.unit.as_context(language),
            **registry.context(),
        }

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
            html = self.environment.get_template(f"{stem}.html").render(context)
            if _REMOTE_STYLESHEET.search(html):
                raise ContentError(
                    "links a remote stylesheet, which mail programs ignore; put the CSS in a "
                    "<style> block",
                    source=f"{stem}.html",
                )
            text = self.environment.get_template(f"{stem}.txt").render(context)
            subject_text = self._from_string(subject, autoescape=False).render(context)
        return Composition.of(
            subject=compile_header(" ".join(subject_text.split()), registry=registry),
            html=compile_skeleton(inline_css(html), registry=registry, html_document=True),
            text=compile_skeleton(_tidy_text(text), registry=registry, html_document=False),
        )

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
    """
    from premailer import Premailer

    return str(
        Premailer(
            html,
            allow_network=False,
            remove_classes=False,
            disable_validation=True,
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
    except (jinja2.TemplateError, TypeError, AttributeError, ValueError) as error:
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
    return str(error)
