"""Every mail as sent, judged with caniemail's data for Gmail, Outlook, Apple Mail and Yahoo.

The HTML part of each campaign kind and system mail goes through @jsx-email/doiuse-email
(run by Node; make installs it). Each (feature, client) it reports as not supported must be
in templates/email/lint-allowlist.toml with the reason it is safe, and a mail may have at
most the allow-list's budget of distinct ones. docs/rendering.md has the figures.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

import pytest

from templates import TEMPLATES_DIR
from tests.templates.email_lint import CLIENTS, Finding, lint
from tests.templates.sent import NAMES, html_part, message

ALLOWLIST = TEMPLATES_DIR / "email" / "lint-allowlist.toml"

pytestmark = pytest.mark.usefixtures("email_lint")


@cache
def allowlist() -> dict[str, Any]:
    with ALLOWLIST.open("rb") as file:
        return tomllib.load(file)


def allowed() -> set[Finding]:
    return {
        (entry["feature"], client) for entry in allowlist()["allow"] for client in entry["clients"]
    }


@cache
def findings() -> dict[str, frozenset[Finding]]:
    """Each mail's distinct findings (one Node run for them all)."""
    results = lint({name: html_part(message(name)) for name in NAMES})
    return {name: frozenset(found) for name, found in results.items()}


@pytest.mark.parametrize("name", NAMES)
def test_every_finding_is_allowed_for_a_reason(name: str) -> None:
    unexplained = sorted(findings()[name] - allowed())
    assert not unexplained, (
        f"{name}: fix these, or add them to {ALLOWLIST.name} with the reason they are safe"
    )


@pytest.mark.parametrize("name", NAMES)
def test_few_distinct_findings_per_mail(name: str) -> None:
    budget = allowlist()["budget"]
    assert len(findings()[name]) <= budget.get(name, budget["default"])


def test_the_allowlist_names_only_what_a_mail_needs() -> None:
    used = frozenset().union(*findings().values())
    assert allowed() - used == set(), "no mail needs these any more: remove them"
    assert all(entry["reason"].strip() for entry in allowlist()["allow"])
    assert set(allowlist()["budget"]) - {"default"} <= set(NAMES)


def test_the_checker_sees_what_it_must_judge() -> None:
    """The lint is not vacuous: the 'before' layout's faults are found on every client family."""
    before = """<!DOCTYPE html><html><body>
    <div style="opacity:0; overflow-wrap:break-word; border-radius:8px; outline:none">x</div>
    <a href="https://example.org" target="_blank">y</a></body></html>"""
    found = set(lint({"before": before})["before"])
    assert ("overflow-wrap", "apple-mail.ios") in found
    assert ("opacity", "yahoo.desktop-webmail") in found
    assert ("border-radius", "outlook.windows") in found
    assert ("target attribute", "gmail.desktop-webmail") in found
    families = {client.split(".")[0] for _, client in found}
    assert families == {pattern.removesuffix(".*") for pattern in CLIENTS}
