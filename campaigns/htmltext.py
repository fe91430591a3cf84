"""Plain text from the HTML of a campaign body, for the text/plain part.

html2text would do this but is GPL; the bodies we convert are simple (paragraphs,
headings, lists, links, images, quotes, tables), so a small converter suffices.
"""

from __future__ import annotations

import re
import sys
import textwrap
from html.parser import HTMLParser

WIDTH = 72
_BLOCKS = {"p", "div", "section", "article", "header", "footer", "table", "figure", "figcaption"}
# Underlines in the plain-text part; h3 marks an interview's questions, so it has one too.
_HEADINGS = {"h1": "=", "h2": "-", "h3": "~", "h4": "", "h5": "", "h6": ""}
_SKIPPED = {"style", "script", "head", "title"}
_SPACE = re.compile(r"\s+")
# Spaces a paragraph may break at: not the no-break space, which keeps a French "adresse :"
# or "« liste »" together.
_BREAKABLE_SPACE = re.compile(r"[ \t\r\n\f\v]+")


def html_to_text(html: str, *, width: int = WIDTH) -> str:
    converter = _Converter(width)
    converter.feed(html)
    converter.close()
    return converter.result()


def html_to_words(html: str) -> str:
    """Just the words of an HTML fragment (a feed entry's summary, say), one paragraph a
    line with a blank line between: no link addresses, heading underlines or wrapping,
    since the text goes into a layout of its own."""
    converter = _Converter(sys.maxsize, bare=True)
    converter.feed(html)
    converter.close()
    return converter.result().strip()


class _Converter(HTMLParser):
    def __init__(self, width: int, *, bare: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self._width = width
        self._bare = bare
        self._blocks: list[tuple[str, bool]] = []  # (text, tight: list item or table row)
        self._inline: list[str] = []
        self._lists: list[list[int]] = []  # per open list: [counter] (0 = bullets)
        self._links: list[tuple[str | None, int]] = []  # (href, where its label starts)
        self._quote = 0
        self._skip = 0
        self._pre = 0
        self._heading: str | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS or tag in _HEADINGS:
            self._flush()
            self._heading = None if self._bare else _HEADINGS.get(tag)
        elif tag == "br":
            self._inline.append("\n")
        elif tag in ("ul", "ol"):
            self._flush()
            self._lists.append([1 if tag == "ol" else 0])
        elif tag == "li":
            self._flush()
        elif tag == "blockquote":
            self._flush()
            self._quote += 1
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif tag == "a":
            self._links.append((attributes.get("href"), len(self._inline)))
        elif tag == "img" and attributes.get("alt"):
            self._inline.append(f"[{attributes['alt']}]")
        elif tag == "tr":
            self._flush()
            self._row = []
        elif tag in ("td", "th"):
            self._flush_cell()
        elif tag == "hr":
            self._flush()
            self._blocks.append(("" if self._bare else "-" * min(self._width, 20), False))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS or tag in _HEADINGS or tag == "li":
            self._flush()
            if tag == "table":
                self._blocks.append(("", False))
        elif tag in ("ul", "ol"):
            self._flush()
            if self._lists:
                self._lists.pop()
            self._blocks.append(("", False))  # the next list starts apart
        elif tag == "blockquote":
            self._flush()
            self._quote = max(0, self._quote - 1)
        elif tag == "pre":
            self._flush()
            self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self._inline[start:])
            shown = href and not href.startswith("#") and href.strip() != label.strip()
            if shown and not self._bare:
                self._inline.append(f" ({href})")
        elif tag in ("td", "th"):
            self._flush_cell()
        elif tag == "tr" and self._row is not None:
            self._flush_cell()
            cells = [cell for cell in self._row if cell]
            if cells:
                self._blocks.append((" | ".join(cells), True))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._inline.append(data if self._pre else _SPACE.sub(" ", data))

    def _flush_cell(self) -> None:
        if self._row is None:
            return
        text = _SPACE.sub(" ", "".join(self._inline)).strip()
        self._inline = []
        self._row.append(text)

    def _flush(self) -> None:
        raw = "".join(self._inline)
        self._inline = []
        if self._row is not None:
            self._inline = [raw]
            self._flush_cell()
            return
        if self._pre:
            if raw.strip("\n"):
                self._blocks.append((raw.strip("\n"), False))
            return
        lines = [_SPACE.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if self._heading is not None:
            self._blocks.append((_heading(text, self._heading, self._width), False))
            self._heading = None
            return
        prefix, indent = "", ""
        if self._lists:
            depth = len(self._lists) - 1
            counter = self._lists[-1]
            marker = f"{counter[0]}." if counter[0] else "-"
            if counter[0]:
                counter[0] += 1
            prefix, indent = "  " * depth + marker + " ", "  " * depth + " " * (len(marker) + 1)
        quote = "> " * self._quote
        wrapped = [
            textwrap.fill(
                line,
                width=self._width - len(quote),
                initial_indent=prefix if i == 0 else indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            for i, line in enumerate(text.split("\n"))
        ]
        block = "\n".join(wrapped)
        if quote:
            block = "\n".join(quote + line for line in block.split("\n"))
        self._blocks.append((block, bool(self._lists)))

    def result(self) -> str:
        self._flush()
        parts: list[str] = []
        previous_tight = False
        for text, tight in self._blocks:
            if not text:
                previous_tight = False
                continue
            if parts:
                parts.append("\n" if tight and previous_tight else "\n\n")
            parts.append(text)
            previous_tight = tight
        return "".join(parts).strip() + "\n"


def _heading(text: str, underline: str, width: int) -> str:
    wrapped = textwrap.fill(text.replace("\n", " "), width=width, break_long_words=False)
    longest = max(len(line) for line in wrapped.split("\n"))
    return f"{wrapped}\n{underline * longest}" if underline else wrapped


def wrap_paragraph(text: str, *, width: int = WIDTH, alone: re.Pattern[str] | None = None) -> str:
    """``text`` as one paragraph wrapped at ``width`` columns.

    A word that ``alone`` finds (a personal placeholder: its length is only known once it
    is filled) stands on a line of its own, with the punctuation written against it, so
    that no line grows past the width whatever it becomes."""
    words = _BREAKABLE_SPACE.sub(" ", text).strip()
    if alone is None or not alone.search(words):
        return _fill(words, width)
    lines: list[str] = []
    run: list[str] = []
    for word in words.split(" "):
        if alone.search(word):
            if run:
                lines.append(_fill(" ".join(run), width))
            lines.append(word)
            run = []
        else:
            run.append(word)
    if run:
        lines.append(_fill(" ".join(run), width))
    return "\n".join(lines)


def _fill(text: str, width: int) -> str:
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)
