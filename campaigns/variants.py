"""Content by audience: the personal fields a template tests, and the variants they make.

A campaign is rendered once, so a template cannot test a personal value that differs from
one recipient to the next. It can test the few that group people: their language, an
attribute, or whether they are on a list (``'partners-africa' in subscriber.lists``). The
conditions are found by reading the template's syntax tree (Jinja2's parser, nothing is
run), and the campaign is rendered once per distinct combination of those values that
occurs among its recipients (a variant): the cost grows with the variants, not with the
recipients. Names and addresses are never variant fields: testing one is still an error
(every person would be a variant of their own).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes

MAX_VARIANTS = 64
"""Renderings one version of a campaign may need; past it, the campaign is refused."""

LISTS = "lists"
LANGUAGE = "language"
ATTRIBUTE_PREFIX = "attributes."


@dataclass(frozen=True, kw_only=True)
class Reader:
    """What a variant may depend on, for one recipient."""

    language: str | None
    attributes: Mapping[str, Any]
    lists: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """The personal fields a template tests. ``list_names``: the lists it asks about by
    name, or None when it reads ``subscriber.lists`` whole (every list the person is on)."""

    fields: tuple[str, ...] = ()
    list_names: frozenset[str] | None = frozenset()

    @property
    def none(self) -> bool:
        return not self.fields

    def key(self, reader: Reader) -> str:
        """The variant ``reader`` gets, as a stable text (JSON of the tested values)."""
        return json.dumps(self._values(reader), sort_keys=True, ensure_ascii=False)

    def _values(self, reader: Reader) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.fields:
            if name == LANGUAGE:
                values[name] = reader.language or ""
            elif name == LISTS:
                lists = reader.lists
                if self.list_names is not None:
                    lists = lists & self.list_names
                values[name] = sorted(lists)
            else:
                value = reader.attributes.get(name[len(ATTRIBUTE_PREFIX) :])
                values[name] = "" if value is None else value
        return values

    def blank(self) -> dict[str, Any]:
        """Values for rendering without a recipient (checking a draft): nothing is set."""
        return {name: [] if name == LISTS else "" for name in self.fields}

    def as_json(self) -> dict[str, Any]:
        names = None if self.list_names is None else sorted(self.list_names)
        return {"fields": list(self.fields), "lists": names}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conditions:
        names = data.get("lists", [])
        return cls(
            fields=tuple(data.get("fields", ())),
            list_names=None if names is None else frozenset(names),
        )


def known_values(key: str) -> dict[str, Any]:
    """The tested values a variant is rendered with, from its key."""
    values: dict[str, Any] = json.loads(key) if key else {}
    return values


def multiplying_fields(conditions: Conditions, readers: Iterable[Reader]) -> list[tuple[str, int]]:
    """Each tested field with the number of distinct values it takes among ``readers``,
    most first: what to simplify when there are too many variants."""
    seen: dict[str, set[str]] = {name: set() for name in conditions.fields}
    for reader in readers:
        for name, value in conditions._values(reader).items():
            seen[name].add(json.dumps(value, sort_keys=True))
    return sorted(((name, len(values)) for name, values in seen.items()), key=lambda x: -x[1])


def find_conditions(
    environment: jinja2.Environment, *, sources: Iterable[str], templates: Iterable[str]
) -> Conditions:
    """The conditions in ``sources`` (the body, the subject) and in the named templates
    with everything they extend, include or import; parsed, never rendered."""
    trees = [environment.parse(source) for source in sources]
    pending, read = list(templates), set()
    while pending:
        name = pending.pop()
        if name in read:
            continue
        read.add(name)
        try:
            assert environment.loader is not None
            source, _, _ = environment.loader.get_source(environment, name)
        except jinja2.TemplateNotFound:
            continue  # the composer reports a missing template with its own words
        tree = environment.parse(source, name=name)
        trees.append(tree)
        pending.extend(found for found in meta.find_referenced_templates(tree) if found)
    fields: set[str] = set()
    named: set[str] | None = set()
    for tree in trees:
        for test in _tests(tree):
            fields.update(_fields_in(test))
        for asked in _list_uses(tree):
            fields.add(LISTS)
            if asked is None or named is None:
                named = None
            else:
                named.add(asked)
    return Conditions(
        fields=tuple(sorted(fields)),
        list_names=None if named is None else frozenset(named),
    )


def _tests(tree: nodes.Node) -> Iterable[nodes.Node]:
    for node in tree.find_all((nodes.If, nodes.CondExpr, nodes.For)):
        test = getattr(node, "test", None)
        if test is not None:
            yield test


def _is_subscriber(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "subscriber"


def _fields_in(test: nodes.Node) -> set[str]:
    found: set[str] = set()
    for node in [test, *test.find_all((nodes.Getattr, nodes.Getitem))]:
        if isinstance(node, nodes.Getattr) and _is_subscriber(node.node) and node.attr == LANGUAGE:
            found.add(LANGUAGE)
        key = _attribute_key(node)
        if key is not None:
            found.add(ATTRIBUTE_PREFIX + key)
    return found


def _attribute_key(node: nodes.Node) -> str | None:
    """``subscriber.attributes.country`` or ``subscriber.attributes['country']``."""
    if isinstance(node, nodes.Getattr):
        parent, key = node.node, node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        parent, key = node.node, str(node.arg.value)
    else:
        return None
    if isinstance(parent, nodes.Getattr) and parent.attr == "attributes":
        return key if _is_subscriber(parent.node) else None
    return None


def _list_uses(tree: nodes.Node) -> Iterable[str | None]:
    """Every ``subscriber.lists``, with the list name when it is ``'name' in ...``."""
    asked: dict[int, str] = {}
    for compare in tree.find_all(nodes.Compare):
        if len(compare.ops) == 1 and compare.ops[0].op in ("in", "notin"):
            target = compare.ops[0].expr
            if _is_lists(target) and isinstance(compare.expr, nodes.Const):
                asked[id(target)] = str(compare.expr.value)
    for node in tree.find_all(nodes.Getattr):
        if _is_lists(node):
            yield asked.get(id(node))


def _is_lists(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Getattr) and node.attr == LISTS and _is_subscriber(node.node)
