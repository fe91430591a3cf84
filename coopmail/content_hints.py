"""The words for content mistakes the domain names by kind, shared by the CLI and the API.

The campaigns package says *what* is wrong with a front matter (which key, which common
YAML trap, on which line); what a person should type instead is said here, once, for
every shell.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaigns.errors import FrontMatterError, YamlTrap

_WHY: Mapping[YamlTrap, str] = {
    YamlTrap.COLON: "the {field} has a colon followed by a space, which YAML reads as a new key",
    YamlTrap.LEADING_SYMBOL: "the {field} starts with {symbol}, which YAML keeps for its own "
    "markup",
    YamlTrap.ALIAS: "the {field} starts with *, which YAML reads as a reference to an &anchor",
    YamlTrap.COMMENT: "YAML reads # and what follows it as a comment, so it would be left out "
    "of the {field}",
    YamlTrap.QUOTES: "the quotes in the {field} do not match",
}


def describe_front_matter(error: FrontMatterError) -> str:
    """One line: where, what went wrong, and the line to write instead when we know it."""
    location = f"{error.source}, line {error.line}" if error.line else error.source
    if error.trap is None or error.field is None or error.value is None:
        return f"{location}: the front matter is not valid YAML ({error.problem})"
    why = _WHY[error.trap].format(field=error.field, symbol=error.symbol or "")
    return (
        f"{location}: {why}; put the {error.field} in quotes: "
        f"{error.field}: {quoted(error.value, trap=error.trap)}"
    )


def quoted(value: str, *, trap: YamlTrap) -> str:
    """``value`` as a double-quoted YAML string, from what the person typed."""
    text = value.strip()
    if trap is YamlTrap.QUOTES and text[:1] in "\"'":
        quote = text[0]
        text = text[1:]
        if text.endswith(quote):
            text = text[:-1]
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
