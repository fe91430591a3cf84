"""`coopmail unit show` and `coopmail unit set`: the same texts as the admin's page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coopmail.staff.models import AuditEntry
from coopmail.unit_texts import TEXTS_CHANGED
from tests.conftest import Cli


def test_set_then_show_the_units_texts(run: Cli, session: Session) -> None:
    before = run.ok("unit", "show", "--json").json()
    assert before["fr"]["texts"]["name"] == "Unité des coopératives"
    assert before["fr"]["set"] == []

    run.ok(
        "unit",
        "set",
        "--language",
        "fr",
        "--name",
        "Services coopératifs",
        "--address-line",
        "Rue des Tisserands 9",
        "--address-line",
        "1201 Genève",
    )
    after = run.ok("unit", "show", "--json").json()
    assert after["fr"]["texts"]["name"] == "Services coopératifs"
    assert after["fr"]["texts"]["address_lines"] == ["Rue des Tisserands 9", "1201 Genève"]
    assert after["fr"]["set"] == ["address_lines", "name"]
    assert after["es"]["texts"]["name"] == "Unidad de Cooperativas"
    assert "name: Services coopératifs  (set here)" in run.ok("unit", "show").stdout
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == TEXTS_CHANGED)).one()
    assert (entry.actor, entry.target_id) == ("system", "fr")

    run.ok("unit", "set", "--language", "fr", "--name", "")  # unset: the configuration's again
    assert run.ok("unit", "show", "--json").json()["fr"]["set"] == ["address_lines"]


def test_bad_texts_are_refused_in_one_line(run: Cli) -> None:
    refused = run("unit", "set", "--language", "fr", "--place", "x" * 300)
    assert refused.exit_code != 0
    assert "the unit's place in fr: too long (at most 200)" in refused.stderr
    assert run("unit", "set", "--language", "fr").exit_code != 0
    assert run("unit", "set", "--language", "de", "--name", "X").exit_code != 0
    assert run.ok("unit", "show", "--json").json()["fr"]["set"] == []
