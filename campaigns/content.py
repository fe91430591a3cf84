"""Read a campaign's content file: YAML front matter, then a Markdown or HTML body."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from campaigns.errors import ContentError
from campaigns.models import SourceFormat

# Keys the composer itself uses; any other front-matter key is passed to the template as meta.
HEADER_KEYS = ("subject", "preheader", "template", "lists", "from", "reply_to", "language")
_ALIASES = {"reply-to": "reply_to", "list": "lists"}
MAX_CONTENT_BYTES = 1_000_000

# Raw HTML is off: Markdown authors cannot smuggle markup past the template.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)


@dataclass(frozen=True, kw_only=True)
class Content:
    name: str
    format: SourceFormat
    body: str
    body_line: int  # the file line where the body starts, for error messages
    header: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def read_content(path: Path) -> Content:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ContentError(f"cannot read the file ({error.strerror})", source=str(path)) from None
    if len(raw) > MAX_CONTENT_BYTES:
        raise ContentError("the file is larger than 1 MB", source=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ContentError("the file is not valid UTF-8", source=str(path), line=line) from None
    fmt = SourceFormat.HTML if path.suffix.lower() in (".html", ".htm") else SourceFormat.MARKDOWN
    return parse_content(text, name=path.name, format=fmt)


def parse_content(text: str, *, name: str, format: SourceFormat) -> Content:
    text = text.replace("\r\n", "\n")
    header: dict[str, Any] = {}
    body, body_line = text, 1
    if text.startswith("---\n"):
        end = text.find("\n---", 3)
        if end < 0 or text[end + 4 : end + 5] not in ("", "\n"):
            raise ContentError(
                "the front matter that opens with --- is never closed", source=name, line=1
            )
        header = _front_matter(text[4:end], name=name)
        body = text[end + 5 :]
        body_line = text[: end + 5].count("\n") + 1
    known = {k: v for k, v in header.items() if k in HEADER_KEYS}
    meta = {k: v for k, v in header.items() if k not in HEADER_KEYS}
    return Content(
        name=name, format=format, body=body, body_line=body_line, header=known, meta=meta
    )


def _front_matter(block: str, *, name: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(block)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 2 if error.problem_mark else None
        raise ContentError(f"front matter: {error.problem}", source=name, line=line) from None
    except yaml.YAMLError as error:
        raise ContentError(f"front matter: {error}", source=name, line=2) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ContentError(
            "the front matter must be a set of key: value lines", source=name, line=2
        )
    return {_ALIASES.get(str(k).lower(), str(k).lower()): _plain(v) for k, v in loaded.items()}


def _plain(value: Any) -> Any:
    """Front matter as JSON-storable values (YAML dates become their text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def markdown_to_html(text: str) -> str:
    return str(_MARKDOWN.render(text))
