"""Read a campaign's content file: YAML front matter, then a Markdown or HTML body."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from campaigns.errors import ContentError, FrontMatterError, YamlTrap
from campaigns.models import SourceFormat

# Keys the composer itself uses; any other front-matter key is passed to the template as meta.
HEADER_KEYS = ("subject", "preheader", "template", "lists", "from", "reply_to", "language")
_ALIASES = {"reply-to": "reply_to", "list": "lists"}
MAX_CONTENT_BYTES = 1_000_000
# Nodes the front matter may hold once its aliases are expanded: a real header has a few
# dozen; a 300-byte "billion laughs" of nested aliases would expand to hundreds of millions.
FRONT_MATTER_NODES = 10_000
# Header keys whose value is one line of text, where a silent YAML comment cuts words off.
_TEXT_KEYS = ("subject", "preheader", "from", "reply_to", "reply-to")

# Raw HTML is off: Markdown authors cannot smuggle markup past the template.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)
# The width of a letter's text: the 600 px layout less its 40 px margins (email/base.html).
CONTENT_WIDTH = 520

ImageSizes = Callable[[str], tuple[int, int] | None]
"""The width and height of the image at a URL, when it is known (the media library's)."""


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
    lines = block.split("\n")
    try:
        loaded = yaml.load(block, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader
    except _TooManyNodes:
        raise ContentError(
            f"the front matter expands to more than {FRONT_MATTER_NODES} values "
            "(aliases repeated inside aliases)",
            source=name,
            line=2,
        ) from None
    except yaml.MarkedYAMLError as error:
        raise _explained(error, lines, name=name) from None
    except yaml.YAMLError as error:
        raise FrontMatterError(problem=str(error), source=name, line=2) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ContentError(
            "the front matter must be a set of key: value lines", source=name, line=2
        )
    _refuse_cut_comments(lines, name=name)
    return {_ALIASES.get(str(k).lower(), str(k).lower()): _plain(v) for k, v in loaded.items()}


class _TooManyNodes(yaml.YAMLError):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses a document whose aliases expand beyond a small budget.

    PyYAML builds an alias as a shared reference, which is cheap, but everything after
    (JSON storage, templates looping over it) sees the expanded tree: count that."""

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _expanded_size(node, {})
        return node


def _expanded_size(node: yaml.Node, seen: dict[int, int]) -> int:
    known = seen.get(id(node))
    if known is not None:
        return known
    seen[id(node)] = 1  # a recursive alias counts once rather than forever
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, seen) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(key, seen) + _expanded_size(value, seen) for key, value in node.value
        )
    if size > FRONT_MATTER_NODES:
        raise _TooManyNodes
    seen[id(node)] = size
    return size


_KEY_LINE = re.compile(r"(?P<key>[A-Za-z_][\w-]*)\s*:(?:\s+(?P<value>.*))?$")
_LEADING_SYMBOLS = "@`%!&|>[{"


def _explained(error: yaml.MarkedYAMLError, lines: list[str], *, name: str) -> FrontMatterError:
    """YAML's error, with the common trap it looks like: which key, which mistake."""
    problem = error.problem or str(error)
    mark = error.problem_mark
    if error.context == "while scanning a quoted scalar" and error.context_mark is not None:
        mark = error.context_mark  # the quote that never closed, not the end of the file
    if mark is None:
        return FrontMatterError(problem=problem, source=name, line=2)
    index = min(mark.line, len(lines) - 1)
    while index > 0 and not _KEY_LINE.match(lines[index]):
        index -= 1  # an indented continuation belongs to the key above
    found = _KEY_LINE.match(lines[index]) if lines else None
    line = index + 2  # the front matter starts on the file's second line
    if found is None or found.group("value") is None:
        return FrontMatterError(problem=problem, source=name, line=mark.line + 2)
    key, value = found.group("key"), found.group("value").rstrip()
    trap, symbol = _trap(value, index, mark.line)
    return FrontMatterError(
        problem=problem,
        source=name,
        line=line,
        field=key.lower(),
        value=value,
        trap=trap,
        symbol=symbol,
    )


def _trap(value: str, key_line: int, error_line: int) -> tuple[YamlTrap | None, str | None]:
    first = value[:1]
    if first in "\"'":
        closed = len(value) > 1 and value.endswith(first) and error_line == key_line
        return (YamlTrap.QUOTES, first) if not closed or value.count(first) > 2 else (None, None)
    if first == "*":
        return YamlTrap.ALIAS, "*"
    if first and first in _LEADING_SYMBOLS:
        return YamlTrap.LEADING_SYMBOL, first
    if ": " in value or value.endswith(":") or error_line != key_line:
        return YamlTrap.COLON, ":"
    return None, None


def _refuse_cut_comments(lines: list[str], *, name: str) -> None:
    """``subject: We are #1`` is valid YAML whose subject is "We are": say so instead."""
    for index, raw in enumerate(lines):
        found = _KEY_LINE.match(raw)
        if found is None or found.group("value") is None:
            continue
        key, value = found.group("key"), found.group("value")
        if key.lower() not in _TEXT_KEYS or value[:1] in "\"'":
            continue
        if value.startswith("#") or " #" in value:
            raise FrontMatterError(
                problem="a # starts a comment, so the rest of the line is left out",
                source=name,
                line=index + 2,
                field=_ALIASES.get(key.lower(), key.lower()),
                value=value.rstrip(),
                trap=YamlTrap.COMMENT,
                symbol="#",
            )


def _plain(value: Any) -> Any:
    """Front matter as JSON-storable values (YAML dates become their text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def markdown_to_html(text: str, *, image_sizes: ImageSizes | None = None) -> str:
    """The HTML of ``text``; each image whose size ``image_sizes`` knows gets ``width`` and
    ``height`` attributes, as Outlook for Windows reads no CSS width and would show a large
    picture at its natural size. They are held to the text's width, the height in
    proportion; the letter's CSS (``max-width: 100%; height: auto``) narrows them further on
    a phone."""
    return str(_MARKDOWN.render(text, {"image_sizes": image_sizes}))


def _sized_image(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[index]
    sizes: ImageSizes | None = env.get("image_sizes")
    size = sizes(str(token.attrGet("src"))) if sizes is not None else None
    if size is not None:
        width, height = letter_size(*size)
        token.attrSet("width", str(width))
        token.attrSet("height", str(height))
    return str(renderer.image(tokens, index, options, env))


def letter_size(width: int, height: int) -> tuple[int, int]:
    """An image's size in a letter: its own, held to the text's width, height in proportion."""
    shown = min(width, CONTENT_WIDTH)
    return shown, max(1, round(height * shown / width))


_IMAGE_TAG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'\ssrc="([^"]*)"')
_SIZED = re.compile(r'\swidth=|\sstyle="[^"]*\bwidth\s*:')


def size_html_images(html: str, *, image_sizes: ImageSizes | None) -> str:
    """``html`` as the sanitiser writes it (attributes double-quoted, entities escaped)
    with a ``width`` and ``height`` on each image whose size ``image_sizes`` knows, as a
    Markdown image gets them. An image given a width of its own (attribute or style)
    keeps it: the author chose it."""
    if image_sizes is None:
        return html

    def sized(match: re.Match[str]) -> str:
        tag = match.group(0)
        src = _SRC.search(tag)
        if src is None or _SIZED.search(tag):
            return tag
        size = image_sizes(unescape(src.group(1)))
        if size is None:
            return tag
        width, height = letter_size(*size)
        return f'<img width="{width}" height="{height}"{tag[len("<img") :]}'

    return _IMAGE_TAG.sub(sized, html)


_MARKDOWN.add_render_rule("image", _sized_image)
