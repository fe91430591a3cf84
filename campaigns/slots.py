"""Placeholders for the personal fields, and the skeleton they leave in a rendered campaign.

A campaign is rendered and inlined once with placeholders where personal values go. A
placeholder is a random-prefixed alphanumeric word: it survives Markdown, Jinja escaping and
premailer (which percent-encodes ``{{ }}`` in URLs) untouched, and staff text cannot forge
one because the prefix is new each time. Compiling splits the final HTML or text at the
placeholders and notes each one's context, so a value is escaped for exactly where it lands.
"""

from __future__ import annotations

import enum
import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

# Fields filled per recipient. "attributes.<key>" names a subscriber attribute.
SUBSCRIBER_FIELDS = ("name", "email", "language")
URL_FIELDS = ("unsubscribe_url", "preferences_url", "view_url", "confirm_url", "resubscribe_url")
_URL_ATTRIBUTES = {"href", "src", "action", "background", "poster", "cite"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_OPEN_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(["']?)([^"'>]*)$""")


class Escape(enum.Enum):
    HTML = "html"  # element text or a quoted attribute value
    URL_WHOLE = "url"  # the entire value of href/src
    URL_PART = "url-part"  # inside a URL: percent-encode, then HTML-escape
    TEXT = "text"  # the text/plain part
    HEADER = "header"  # a header value (the subject): no control characters


@dataclass(frozen=True)
class SlotUse:
    field: str
    fallback: str
    escape: Escape

    def render(self, values: Mapping[str, str]) -> str:
        value = values.get(self.field) or self.fallback
        match self.escape:
            case Escape.HTML:
                return html.escape(value, quote=True)
            case Escape.URL_WHOLE:
                if self.field not in URL_FIELDS and not value.lower().startswith(_SAFE_SCHEMES):
                    return "#"  # a person's data never becomes a javascript: link
                return html.escape(value, quote=True)
            case Escape.URL_PART:
                return html.escape(quote(value, safe=""), quote=True)
            case Escape.TEXT:
                return value
            case Escape.HEADER:
                return _HEADER_UNSAFE.sub(" ", value)


class Slot:
    """What a template sees where a personal value will go: prints as a placeholder."""

    def __init__(self, registry: SlotRegistry, index: int) -> None:
        self._marker = registry.marker(index)

    def __str__(self) -> str:
        return self._marker

    def __html__(self) -> str:
        return self._marker

    def __bool__(self) -> bool:
        raise TypeError(
            "personal fields cannot be tested in a template; use the fallback filter: "
            '{{ subscriber.name | fallback("colleague") }}'
        )


class SlotRegistry:
    """Hands out placeholders for one rendering and remembers what each stands for."""

    def __init__(self) -> None:
        self._prefix = f"cm{secrets.token_hex(5)}s"
        self.pattern = re.compile(rf"{self._prefix}(\d+)x")
        self.fields: list[tuple[str, str]] = []  # index -> (field, fallback)

    def marker(self, index: int) -> str:
        return f"{self._prefix}{index}x"

    def slot(self, field: str, fallback: str = "") -> Slot:
        key = (field, fallback)
        if key not in self.fields:
            self.fields.append(key)
        return Slot(self, self.fields.index(key))

    def fallback_filter(self, value: Any, fallback: str) -> Slot | str:
        """The template filter ``fallback``: the value, or ``fallback`` when it is empty."""
        if isinstance(value, Slot):
            index = int(self.pattern.fullmatch(str(value)).group(1))  # type: ignore[union-attr]
            return self.slot(self.fields[index][0], str(fallback))
        return value if value else fallback

    def context(self, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The personal names a template may use. ``known``: the fields a template tests
        with ``{% if %}``, given their values for one variant (campaigns.variants): the
        same for every recipient of that rendering, so they are written in, not slotted."""
        return {
            "subscriber": _SubscriberSlots(self, known or {}),
            **{name: self.slot(name) for name in URL_FIELDS},
        }


class _SubscriberSlots:
    def __init__(self, registry: SlotRegistry, known: Mapping[str, Any]) -> None:
        for name in SUBSCRIBER_FIELDS:
            setattr(self, name, known[name] if name in known else registry.slot(name))
        self.attributes = _AttributeSlots(registry, known)
        if "lists" in known:
            self.lists = known["lists"]


class _AttributeSlots:
    def __init__(self, registry: SlotRegistry, known: Mapping[str, Any]) -> None:
        self._registry = registry
        self._known = known

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __getitem__(self, key: str) -> Any:
        field = f"attributes.{key}"
        return self._known[field] if field in self._known else self._registry.slot(field)


@dataclass(frozen=True)
class Skeleton:
    """Literal text with personal slots between: ``literals`` has one more item than ``slots``."""

    literals: tuple[str, ...]
    slots: tuple[SlotUse, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(slot.field for slot in self.slots)

    def fill(self, values: Mapping[str, str]) -> str:
        if not self.slots:
            return self.literals[0]
        parts = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            parts.append(slot.render(values))
            parts.append(literal)
        return "".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "literals": list(self.literals),
            "slots": [[s.field, s.fallback, s.escape.value] for s in self.slots],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Skeleton:
        return cls(
            tuple(data["literals"]),
            tuple(
                SlotUse(field, fallback, Escape(escape))
                for field, fallback, escape in data["slots"]
            ),
        )


def compile_skeleton(text: str, *, registry: SlotRegistry, html_document: bool) -> Skeleton:
    """Split ``text`` at the registry's placeholders, choosing each one's escaping."""
    literals: list[str] = []
    slots: list[SlotUse] = []
    position = 0
    for match in registry.pattern.finditer(text):
        literals.append(text[position : match.start()])
        field, fallback = registry.fields[int(match.group(1))]
        escape = _html_context(text, match.start()) if html_document else Escape.TEXT
        slots.append(SlotUse(field, fallback, escape))
        position = match.end()
    literals.append(text[position:])
    return Skeleton(tuple(literals), tuple(slots))


def compile_header(text: str, *, registry: SlotRegistry) -> Skeleton:
    skeleton = compile_skeleton(text, registry=registry, html_document=False)
    return Skeleton(
        skeleton.literals,
        tuple(SlotUse(s.field, s.fallback, Escape.HEADER) for s in skeleton.slots),
    )


def _html_context(document: str, position: int) -> Escape:
    tag_start = document.rfind("<", 0, position)
    if tag_start <= document.rfind(">", 0, position):
        return Escape.HTML  # between tags: element text
    attribute = _OPEN_ATTRIBUTE.search(document, tag_start, position)
    if attribute is None or attribute.group(1).lower() not in _URL_ATTRIBUTES:
        return Escape.HTML
    return Escape.URL_PART if attribute.group(3) else Escape.URL_WHOLE


def mark_safe(text: str) -> Markup:
    return Markup(text)  # noqa: S704 - the composer's own rendered HTML
