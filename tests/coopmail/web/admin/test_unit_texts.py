# ruff: noqa: RUF001 - the admin writes the typographic apostrophe, on purpose
"""The unit's texts, set by an owner at /admin/settings/unit in three languages: stored,
audited, over unit.toml, and read by the mails, the public pages and the archive of a
process that keeps running."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from campaigns.compose import Composer
from coopmail.db import session_scope
from coopmail.staff.errors import PermissionDenied
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Actor, Role
from coopmail.unit_texts import (
    TEXTS_CHANGED,
    StoredUnitTexts,
    UnitTextInvalid,
    set_unit_texts,
    stored_unit_texts,
)
from coopmail.web.mail import WELCOME, Mail, Postman
from tests.coopmail.web.admin.conftest import Admin

PAGE = "/admin/settings/unit"


def text_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def form(**values: str) -> dict[str, str]:
    """Every field of the form, empty but those given as ``fr_name=...``."""
    fields = ("name", "department", "address_lines", "about", "place", "signature")
    data = {f"{code}.{key}": "" for code in ("en", "fr", "es") for key in fields}
    data.update({key.replace("_", ".", 1): value for key, value in values.items()})
    return data


def test_an_owner_sets_the_texts_and_every_page_and_mail_says_them(admin: Admin) -> None:
    admin.create("olu@coop.example.org", Role.OWNER)
    owner = admin.signed_in("olu@coop.example.org")
    postman = Postman(settings=admin.settings, composer=admin.context.composer)
    welcome = Mail(template=WELCOME, email="awa@coop.example.org", language="fr")
    assert "Services coopératifs" not in text_of(postman.build(welcome, now=NOW))
    page = owner.get(PAGE)
    assert page.status_code == 200
    # The three languages side by side, each field showing what applies when left empty.
    for code in ("en", "fr", "es"):
        assert f'<fieldset class="panel" lang="{code}">' in page.text
    assert 'placeholder="Unité des coopératives"' in page.text
    assert 'placeholder="Unidad de Cooperativas"' in page.text

    saved = admin.post(
        owner,
        PAGE,
        PAGE,
        form(
            en_name="Cooperative Services",
            fr_name="Services coopératifs",
            fr_address_lines="Rue des Tisserands 9\n1201 Genève\nSuisse",
            es_about="Acompañamos a las cooperativas de todo el mundo.",
        ),
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"{PAGE}?done=unit_saved")
    again = owner.get(PAGE + "?done=unit_saved")
    assert "The unit’s texts are saved" in again.text
    assert 'value="Services coopératifs"' in again.text
    assert "Rue des Tisserands 9\n1201 Genève\nSuisse</textarea>" in again.text

    with admin.session() as session:
        assert stored_unit_texts(session) == {
            "en": {"name": "Cooperative Services"},
            "es": {"about": "Acompañamos a las cooperativas de todo el mundo."},
            "fr": {
                "name": "Services coopératifs",
                "address_lines": ("Rue des Tisserands 9", "1201 Genève", "Suisse"),
            },
        }
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == TEXTS_CHANGED).order_by(AuditEntry.id)
        ).all()
    assert [(e.actor, e.target_id) for e in entries] == [
        ("olu@coop.example.org", "en"),
        ("olu@coop.example.org", "fr"),
        ("olu@coop.example.org", "es"),
    ]
    assert entries[1].details["changed"]["name"] == "Services coopératifs"

    # The public pages, at once (a change in this process is read at once).
    visitor = admin.browser()
    french = visitor.get("/subscribe?lang=fr").text
    assert "Services coopératifs" in french and "Rue des Tisserands 9" in french
    assert "Unité des coopératives" not in french
    assert "Cooperative Services" in visitor.get("/subscribe?lang=en").text
    # A new English name outdates the configured translations of it: Spanish, given none
    # here, says the new name.
    spanish = visitor.get("/subscribe?lang=es").text
    assert "Cooperative Services" in spanish and "Unidad de Cooperativas" not in spanish
    assert 'placeholder="Cooperative Services"' in owner.get(PAGE).text
    # And the mails: the welcome mail, composed once and kept, is composed again.
    sent = text_of(postman.build(welcome, now=NOW))
    assert "Services coopératifs" in sent and "Rue des Tisserands 9" in sent
    mail = admin.context.composer.compose_system(name="welcome", subject="S", language="es")
    assert "Acompañamos a las cooperativas" in mail.html.fill(dict.fromkeys(mail.html.fields, ""))

    # Emptied, a text is the configuration's again.
    admin.post(owner, PAGE, PAGE, form())
    assert "Unité des coopératives" in visitor.get("/subscribe?lang=fr").text


def test_a_text_too_long_saves_nothing_and_says_which(admin: Admin) -> None:
    admin.create("olu@coop.example.org", Role.OWNER)
    owner = admin.signed_in("olu@coop.example.org")
    refused = admin.post(owner, PAGE, PAGE, form(en_name="Fine", es_place="Ginebra " * 40))
    assert refused.status_code == 400
    assert "Place letters are written from (Español) is too long" in refused.text
    assert 'value="Fine"' in refused.text  # what was typed stays in the form
    with admin.session() as session:
        assert stored_unit_texts(session) == {}


def test_only_owners_may_set_the_texts(admin: Admin) -> None:
    admin.create("ade@coop.example.org", Role.ADMIN)
    browser = admin.signed_in("ade@coop.example.org")
    assert browser.get(PAGE).status_code == 403
    with session_scope(admin.engine) as session, pytest.raises(PermissionDenied):
        set_unit_texts(
            session,
            actor=Actor(account_id=1, label="ade@coop.example.org", role=Role.ADMIN),
            language="fr",
            texts={"name": "X"},
            now=NOW,
        )


def test_bad_texts_are_typed_errors(engine: Engine) -> None:
    with session_scope(engine) as session:
        for language, texts, field in (
            ("de", {"name": "Genossenschaften"}, "language"),
            ("fr", {"email": "x@example.org"}, "email"),
            ("fr", {"signature": "\n".join("a" * 7)}, "signature"),
        ):
            with pytest.raises(UnitTextInvalid) as raised:
                set_unit_texts(
                    session, actor=Actor.system(), language=language, texts=texts, now=NOW
                )
            assert raised.value.field == field


def test_a_running_process_reads_a_change_made_elsewhere(engine: Engine) -> None:
    """A worker or a second `serve`: its own reader sees the change once its copy is old."""
    ticks = [0.0]
    reader = StoredUnitTexts(engine, max_age=5.0, clock=lambda: ticks[0])
    composer = Composer(unit_texts=reader)
    assert composer.unit.as_context("fr")["name"] == "Unité des coopératives"
    with session_scope(engine) as session:  # another process: the CLI, the admin
        set_unit_texts(
            session, actor=Actor.system(), language="fr", texts={"name": "Coop"}, now=NOW
        )
    ticks[0] = 4.0
    assert composer.unit.as_context("fr")["name"] == "Unité des coopératives"
    ticks[0] = 5.0
    assert composer.unit.as_context("fr")["name"] == "Coop"
    assert composer.unit.as_context("es")["name"] == "Unidad de Cooperativas"
