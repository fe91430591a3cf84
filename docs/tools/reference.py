"""An MkDocs hook that writes the reference tables from the code, so they cannot drift.

A page asks for a table with a marker line of its own, such as
``<!-- generated: configuration-table -->``; the hook replaces the marker with Markdown built
at build time from ``coopmail.config.OPTIONS`` or from the API's OpenAPI document. The CLI
reference comes from mkdocs-click, a Markdown extension, and needs no hook.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!-- generated: (?P<name>[a-z-]+) -->$", re.MULTILINE)
DOCUMENT_ONLY_KEY = "built-for-the-documentation-only"  # never signs anything real
FASTAPI_DEFAULT_DESCRIPTION = "Successful Response"  # says nothing the status does not

Schema = Mapping[str, Any]


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: replace every marker in a page with the table it names."""

    def generated(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in GENERATORS:
            known = ", ".join(sorted(GENERATORS))
            raise ValueError(f"unknown generated table {name!r}; known: {known}")
        return GENERATORS[name]()

    return MARKER.sub(generated, markdown)


# --- configuration ----------------------------------------------------------------------


def configuration_table() -> str:
    """Every setting in ``coopmail.config.OPTIONS``, in the order the code declares them."""
    from coopmail.config import ENV_PREFIX, OPTIONS

    rows = [
        "| Environment variable | `coopmail.toml` key | Default | What it does |",
        "| --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        default = f"`{option.default}`" if option.default is not None else "none"
        rows.append(
            f"| `{ENV_PREFIX}{option.key.upper()}` | `{option.key}` | {default} "
            f"| {_cell(option.help)} |"
        )
    return "\n".join(rows)


# --- the JSON API -----------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document exactly as ``coopmail serve`` publishes it at /api/openapi.json.

    The application is assembled with throwaway settings and an in-memory database that is
    never opened: building the document only walks the routes.
    """
    from sqlalchemy import create_engine

    from campaigns.compose import Composer
    from coopmail.config import load_settings
    from coopmail.web.app import create_app
    from coopmail.web.context import WebContext

    with tempfile.TemporaryDirectory() as workdir:
        settings = load_settings(
            environ={
                "COOPMAIL_SECRET_KEY": DOCUMENT_ONLY_KEY,
                "COOPMAIL_SMTP_URL": "smtp://127.0.0.1:25",
                "COOPMAIL_BASE_URL": "https://news.example.org",
            },
            cwd=Path(workdir),
        )
        context = WebContext(
            engine=create_engine("sqlite://"), settings=settings, composer=Composer()
        )
        document: dict[str, Any] = create_app(context=context).openapi()
    return document


def api_reference() -> str:
    """Every operation of the API, grouped by tag, then every body it takes or returns."""
    document = openapi_document()
    schemas: Mapping[str, Schema] = document.get("components", {}).get("schemas", {})
    lines: list[str] = []
    for tag, operations in _operations_by_tag(document):
        lines += [f"### {tag.capitalize()}", ""]
        for method, path, operation in operations:
            lines += _operation(method, path, operation)
    lines += ["### Bodies", ""]
    lines += [
        "The objects the operations above take and return, by the name the OpenAPI "
        "document gives them.",
        "",
    ]
    for name in sorted(schemas):
        lines += _schema_section(name, schemas[name])
    return "\n".join(lines)


def api_summary() -> str:
    """One line per operation: its method and path, linked to its section, and what it does."""
    rows = ["| Method and path | What it does |", "| --- | --- |"]
    for _, operations in _operations_by_tag(openapi_document()):
        for method, path, operation in operations:
            first = operation.get("description", "").strip().split("\n\n")[0]
            link = f"[`{method} {path}`](#{_slug(f'{method} {path}')})"
            rows.append(f"| {link} | {_cell(first)} |")
    return "\n".join(rows)


def _operations_by_tag(
    document: Mapping[str, Any],
) -> Iterator[tuple[str, list[tuple[str, str, Schema]]]]:
    groups: dict[str, list[tuple[str, str, Schema]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append((method.upper(), path, operation))
    yield from groups.items()


def _operation(method: str, path: str, operation: Schema) -> list[str]:
    anchor = _slug(f"{method} {path}")
    lines = [f"#### `{method} {path}` {{#{anchor}}}", ""]
    if operation.get("description"):
        lines += [operation["description"].strip(), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += [
            "| Parameter | In | Type | Required | Meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            meaning = parameter.get("description") or schema.get("description") or ""
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_type(schema)} "
                f"| {'yes' if parameter.get('required') else 'no'} "
                f"| {_cell(_with_limits(meaning, schema))} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        lines += [f"Request body (JSON): {_type(schema)}.", ""]
    answers, errors = [], []
    for status, response in operation["responses"].items():  # as the route declares
        content = response.get("content", {}).get("application/json")
        returned = _type(content["schema"]) if content else "no body"
        meaning = response.get("description", "")
        if status.startswith(("4", "5")):
            errors.append(f"{status} {meaning[:1].lower()}{meaning[1:]}")
        elif meaning and meaning != FASTAPI_DEFAULT_DESCRIPTION:
            answers.append(f"{status} ({meaning[:1].lower()}{meaning[1:]}) with {returned}")
        else:
            answers.append(f"{status} with {returned}")
    lines.append(f"Answers {'; '.join(answers)}.")
    if errors:
        lines += [
            "",
            f"Errors, each with an [`ErrorBody`](#{_schema_anchor('ErrorBody')}): "
            f"{'; '.join(errors)}.",
        ]
    lines.append("")
    return lines


def _schema_section(name: str, schema: Schema) -> list[str]:
    lines = [f"#### {name} {{#{_schema_anchor(name)}}}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if not properties:
        return [*lines, f"Type: {_type(schema)}.", ""]
    required = set(schema.get("required", []))
    lines += ["| Field | Type | Required | Meaning |", "| --- | --- | --- | --- |"]
    for field, definition in properties.items():
        meaning = _with_limits(definition.get("description", ""), definition)
        lines.append(
            f"| `{field}` | {_type(definition)} | {'yes' if field in required else 'no'} "
            f"| {_cell(meaning)} |"
        )
    if schema.get("additionalProperties") is False:
        lines += ["", "Any other field is refused (422)."]
    lines.append("")
    return lines


def _type(schema: Schema) -> str:
    """A short reading of a JSON Schema type: `string`, array of `Thing`, `"a"` or `"b"`…"""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{_schema_anchor(name)})"
    if "anyOf" in schema:
        choices = [choice for choice in schema["anyOf"] if choice.get("type") != "null"]
        nullable = len(choices) < len(schema["anyOf"])
        text = " or ".join(_type(choice) for choice in choices)
        return f"{text} or `null`" if nullable else text
    if "enum" in schema:
        return " or ".join(f'`"{value}"`' for value in schema["enum"])
    return _container_or_scalar(schema)


def _container_or_scalar(schema: Schema) -> str:
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {_type(schema['additionalProperties'])}"
    if schema.get("format"):
        return f"`{kind}` ({schema['format']})"
    return f"`{kind}`"


def _count(value: int, noun: str, plural: str = "") -> str:
    return f"{value} {noun}" if value == 1 else f"{value} {plural or noun + 's'}"


_LIMITS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("minLength", lambda value: f"at least {_count(value, 'character')}"),
    ("maxLength", lambda value: f"at most {_count(value, 'character')}"),
    ("minimum", lambda value: f"from {value}"),
    ("maximum", lambda value: f"up to {value}"),
    ("minItems", lambda value: f"at least {_count(value, 'item')}"),
    ("maxItems", lambda value: f"at most {_count(value, 'item')}"),
    ("maxProperties", lambda value: f"at most {_count(value, 'entry', 'entries')}"),
    ("pattern", lambda value: f"matches `{value}`"),
    ("default", lambda value: f"default `{value}`"),
)


def _with_limits(meaning: str, schema: Schema) -> str:
    """The meaning, followed by the limits the schema (or its one non-null choice) sets."""
    choices = [choice for choice in schema.get("anyOf", []) if choice.get("type") != "null"]
    target = choices[0] if len(choices) == 1 else schema
    limits = [describe(target[key]) for key, describe in _LIMITS if key in target]
    if "default" in schema and target is not schema and schema["default"] is not None:
        limits.append(f"default `{schema['default']}`")
    if not limits:
        return meaning
    joined = "; ".join(limits)
    if not meaning:
        return joined[0].upper() + joined[1:]
    return f"{meaning.removesuffix('.')} ({joined})" + ("." if meaning.endswith(".") else "")


def _cell(text: str) -> str:
    """Text fit for one table cell: one line, no column breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _schema_anchor(name: str) -> str:
    return "body-" + _slug(name)


GENERATORS: Mapping[str, Callable[[], str]] = {
    "configuration-table": configuration_table,
    "api-summary": api_summary,
    "api-reference": api_reference,
}
