"""What staff do on the admin's pages, through the pages, against the real use cases: the
same rules as the command line, every action in the audit log, every word in the
person's language, and nothing a subscriber typed ever read as markup."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Engine, select

from campaigns.models import BounceEvent
from coopmail.db import session_scope
from coopmail.staff.audit import AuditFilter, query_audit
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Actor, Role
from mailer.bounces import BounceKind
from subscribers.lists import create_list, get_list
from subscribers.models import (
    ConsentSource,
    OptIn,
    Subscriber,
    SubscriptionStatus,
    Suppression,
)
from subscribers.people import subscribe
from subscribers.suppressions import find_suppression
from tests.conftest import Cli, Clock
from tests.coopmail.web.admin.conftest import PASSWORD, Admin, csrf_of, make_admin
from tests.smtp_server import RecordingSmtpServer

OWNER = "olga@unit.example.org"
ANA = "ana@unit.example.org"
LUCIA = "lucia@andes.example.org"
XSS_NAME = "<script>window.__xss=1</script>Lucía"
XSS_VALUE = '"><img src=x onerror="window.__xss=2">'


def add_partner(admin: Admin, address: str = LUCIA, **extra: object) -> int:
    with session_scope(admin.engine) as session:
        partners = session.scalar(select_list("partners")) or create_list(
            session, name="partners", title="Letters to partners"
        )
        person = subscribe(
            session,
            email=address,
            mailing_list=partners,
            source=ConsentSource.FORM,
            wording="ticked the box",
            status=SubscriptionStatus.CONFIRMED,
            **extra,  # type: ignore[arg-type]
        ).subscriber
        return person.id


def select_list(name: str) -> object:
    from subscribers.models import MailingList

    return select(MailingList).where(MailingList.name == name)


def actions(admin: Admin) -> list[str]:
    with admin.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_lists_are_created_and_edited_and_the_cli_edits_them_the_same_way(
    admin: Admin, run: Cli
) -> None:
    admin.create(ANA, Role.ADMIN)
    browser = admin.signed_in(ANA)
    answer = admin.post(
        browser,
        "/admin/lists",
        "/admin/lists",
        {"name": "partners-fr", "title": "Lettres", "opt_in": "single", "public": "yes"},
    )
    assert answer.headers["location"] == "/admin/lists/partners-fr?done=list_created"
    page = browser.get(answer.headers["location"])
    assert "The list is created." in page.text and "Lettres" in page.text
    taken = admin.post(
        browser, "/admin/lists", "/admin/lists", {"name": "partners-fr", "opt_in": "double"}
    )
    assert taken.status_code == 400 and "already exists" in taken.text
    bad = admin.post(
        browser, "/admin/lists", "/admin/lists", {"name": "Bad Name", "opt_in": "double"}
    )
    assert bad.status_code == 400 and "lower-case letters" in bad.text
    admin.post(
        browser,
        "/admin/lists/partners-fr",
        "/admin/lists/partners-fr",
        {"title": "Lettres aux partenaires", "description": "Une par mois.", "opt_in": "double"},
    )
    with admin.session() as session:
        edited = get_list(session, name="partners-fr")
        assert (edited.title, edited.opt_in, edited.is_public) == (
            "Lettres aux partenaires",
            OptIn.DOUBLE,
            False,
        )
    assert actions(admin)[-2:] == ["list.created", "list.changed"]
    result = run.ok("lists", "edit", "partners-fr", "--public", "--json")
    assert result.json()["public"] is True and result.json()["title"] == "Lettres aux partenaires"


def test_a_viewer_sees_lists_but_no_form_to_change_them(admin: Admin) -> None:
    admin.create(ANA, Role.VIEWER)
    page = admin.signed_in(ANA).get("/admin/lists")
    assert page.status_code == 200 and 'action="/admin/lists"' not in page.text


def test_a_person_is_found_edited_added_unsubscribed_exported_and_erased(
    admin: Admin,
) -> None:
    admin.create(ANA, Role.ADMIN)
    person = add_partner(admin, name="Lucía Quispe", attributes={"country": "Peru"})
    add_partner(admin, "pedro@example.org")
    with session_scope(admin.engine) as session:
        create_list(session, name="digest", title="Monthly digest")
    browser = admin.signed_in(ANA)
    found = browser.get("/admin/subscribers", params={"q": "quispe"})
    assert LUCIA in found.text and "pedro@" not in found.text and "1 person" in found.text
    page = f"/admin/subscribers/{person}"
    admin.post(
        browser,
        page,
        f"{page}/edit",
        {
            "name": "Lucía Quispe Mamani",
            "language": "es-PE",
            "attribute_key": ["country", "org"],
            "attribute_value": ["", "Tejedoras"],
        },
    )
    added = admin.post(
        browser, page, f"{page}/lists", {"list": "digest", "consent": "Asked by phone"}
    )
    assert added.headers["location"] == f"{page}?done=subscribed"
    admin.post(browser, page, f"{page}/unsubscribe", {"list": "partners"})
    with admin.session() as session:
        held = session.get(Subscriber, person)
        assert held is not None
        assert (held.name, held.language, held.attributes) == (
            "Lucía Quispe Mamani",
            "es-PE",
            {"org": "Tejedoras"},
        )
        statuses = {s.mailing_list.name: s.status for s in held.subscriptions}
        assert statuses == {
            "partners": SubscriptionStatus.UNSUBSCRIBED,
            "digest": SubscriptionStatus.CONFIRMED,
        }
        wordings = [(r.source, r.wording) for r in held.consent_records]
        assert (ConsentSource.STAFF, "Asked by phone") in wordings
    shown = browser.get(page)
    assert "Asked by phone" in shown.text and "Tejedoras" in shown.text
    export = admin.post(browser, page, f"{page}/export", {})
    assert export.headers["content-type"] == "application/json"
    assert (
        export.headers["content-disposition"] == f'attachment; filename="subscriber-{person}.json"'
    )
    data = json.loads(export.content)
    assert data["email"] == LUCIA and len(data["consent_records"]) == 3
    refused = admin.post(
        browser, f"{page}/erase", f"{page}/erase", {"confirm": "pedro@example.org"}
    )
    assert refused.status_code == 400
    erased = admin.post(browser, f"{page}/erase", f"{page}/erase", {"confirm": LUCIA.upper()})
    assert erased.headers["location"] == "/admin/subscribers?done=erased"
    with admin.session() as session:
        assert session.get(Subscriber, person) is None
        assert find_suppression(session, email=LUCIA) is not None
    assert actions(admin)[-5:] == [
        "subscriber.changed",
        "subscriber.subscribed",
        "subscriber.unsubscribed",
        "subscriber.exported",
        "subscriber.erased",
    ]
    with admin.session() as session:  # the log keeps ids, never the address
        details = session.scalars(select(AuditEntry.details)).all()
        assert LUCIA not in json.dumps(details)


def test_an_editor_reads_people_but_neither_changes_nor_exports_them(admin: Admin) -> None:
    admin.create(ANA, Role.EDITOR)
    person = add_partner(admin)
    browser = admin.signed_in(ANA)
    page = browser.get(f"/admin/subscribers/{person}")
    assert LUCIA in page.text
    assert "/export" not in page.text and "/erase" not in page.text and "/edit" not in page.text
    token = csrf_of(browser.get("/admin/").text)
    assert (
        browser.post(f"/admin/subscribers/{person}/export", data={"csrf_token": token}).status_code
        == 403
    )


def test_a_suppression_is_added_found_and_removed(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    browser = admin.signed_in(ANA)
    added = admin.post(
        browser,
        "/admin/suppressions",
        "/admin/suppressions",
        {"email": "Pedro@Example.org", "note": "asked by phone"},
    )
    assert added.headers["location"] == "/admin/suppressions?done=suppressed"
    found = browser.get("/admin/suppressions", params={"q": "pedro@example.org"})
    assert "asked by phone" in found.text
    invalid = admin.post(browser, "/admin/suppressions", "/admin/suppressions", {"email": "nope"})
    assert invalid.status_code == 400 and "valid email address" in invalid.text
    removed = admin.post(
        browser, "/admin/suppressions", "/admin/suppressions/remove", {"email": "pedro@example.org"}
    )
    assert removed.headers["location"] == "/admin/suppressions?done=unsuppressed"
    with admin.session() as session:
        assert session.scalars(select(Suppression)).all() == []
    assert actions(admin)[-2:] == ["suppression.added", "suppression.removed"]


def test_bounces_are_listed_searched_and_read(admin: Admin) -> None:
    admin.create(ANA, Role.VIEWER)
    with session_scope(admin.engine) as session:
        for number, (kind, address) in enumerate(
            [(BounceKind.HARD, "gone@old.example"), (BounceKind.SOFT, "full@busy.example")]
        ):
            session.add(
                BounceEvent(
                    message_key=str(number) * 64,
                    kind=kind,
                    email=address,
                    status="5.1.1",
                    diagnostic="550 5.1.1 <gone@old.example>: user unknown",
                    verified=True,
                )
            )
    browser = admin.signed_in(ANA)
    listing = browser.get("/admin/bounces", params={"q": "old.example"})
    assert "gone@old.example" in listing.text and "full@busy.example" not in listing.text
    event = re.search(r'href="/admin/bounces/(\d+)"', listing.text)
    assert event is not None
    shown = browser.get(f"/admin/bounces/{event.group(1)}")
    assert "user unknown" in shown.text and "Hard bounce" in shown.text
    assert browser.get("/admin/bounces/999999").status_code == 404


def test_an_api_key_is_shown_once_then_only_its_prefix_and_revoked(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    browser = admin.signed_in(ANA)
    created = admin.post(browser, "/admin/apikeys", "/admin/apikeys", {"name": "website-form"})
    assert created.status_code == 201
    token = re.search(r"cm_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", created.text)
    assert token is not None
    listing = browser.get("/admin/apikeys")
    assert token.group(0) not in listing.text and token.group(0)[:11] in listing.text
    api = admin.browser()
    headers = {"Authorization": f"Bearer {token.group(0)}"}
    assert api.get("/api/v1/lists", headers=headers).status_code == 200
    key_id = re.search(r"/admin/apikeys/(\d+)/revoke", listing.text)
    assert key_id is not None
    admin.post(browser, "/admin/apikeys", f"/admin/apikeys/{key_id.group(1)}/revoke", {})
    assert api.get("/api/v1/lists", headers=headers).status_code == 401
    assert actions(admin)[-2:] == ["apikey.created", "apikey.revoked"]


def test_an_owner_adds_staff_who_choose_a_password_with_their_link_and_log_in(
    admin: Admin,
) -> None:
    admin.create(OWNER, Role.OWNER)
    owner = admin.signed_in(OWNER)
    created = admin.post(
        owner,
        "/admin/staff",
        "/admin/staff",
        {"email": ANA, "name": "Ana", "role": "editor", "language": "fr"},
    )
    assert created.status_code == 201
    link = re.search(r"http://testserver(/admin/password/[^<\s]+)", created.text)
    assert link is not None
    newcomer = admin.browser()
    form = newcomer.get(link.group(1))
    assert "Bienvenue" in form.text and '<html lang="fr">' in form.text  # the person's
    short = newcomer.post(
        link.group(1),
        data={"password": "short", "password_again": "short", "csrf_token": csrf_of(form.text)},
    )
    assert short.status_code == 400
    assert "Choisissez un mot de passe d\u2019au moins 12 caractères." in short.text
    chosen = newcomer.post(
        link.group(1),
        data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert chosen.headers["location"] == "/admin/login?done=password_set"
    assert newcomer.get(link.group(1)).status_code == 404  # once only
    assert admin.log_in(newcomer, ANA).headers["location"] == "/admin/"
    dashboard = newcomer.get("/admin/")
    assert '<html lang="fr">' in dashboard.text and "Tableau de bord" in dashboard.text


def test_nobody_grants_a_role_above_their_own_nor_removes_the_last_owner(admin: Admin) -> None:
    admin.create(OWNER, Role.OWNER)
    owner_id = admin.account(OWNER).id
    owner = admin.signed_in(OWNER)
    page = f"/admin/staff/{owner_id}"
    answer = admin.post(owner, page, f"{page}/role", {"role": "admin"})
    assert answer.status_code == 400 and "last active owner" in answer.text
    assert admin.account(OWNER).role is Role.OWNER


def test_a_required_second_factor_is_set_up_at_the_next_login(admin: Admin) -> None:
    admin.create(OWNER, Role.OWNER)
    ana = admin.create(ANA, Role.EDITOR)
    owner = admin.signed_in(OWNER)
    admin.post(
        owner, f"/admin/staff/{ana}", f"/admin/staff/{ana}/second-factor", {"required": "yes"}
    )
    browser = admin.browser()
    answer = admin.log_in(browser, ANA)
    assert answer.headers["location"] == "/admin/login/enrol"
    assert browser.get("/admin/lists", follow_redirects=False).headers["location"] == (
        "/admin/login/enrol"
    )
    shown = admin.post(browser, "/admin/login/enrol", "/admin/login/enrol/start", {})
    assert "<svg" in shown.text and 'class="qr"' in shown.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', shown.text)
    assert secret is not None
    done = browser.post(
        "/admin/login/enrol",
        data={
            "code": pyotp.TOTP(secret.group(1)).at(admin.clock()),
            "csrf_token": csrf_of(shown.text),
        },
        follow_redirects=False,
    )
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.text)
    assert len(codes) == 10
    assert browser.get("/admin/lists").status_code == 200


def test_a_forgotten_password_is_mailed_as_a_link_that_sets_a_new_one(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    with RecordingSmtpServer() as smtp:
        admin = make_admin(engine, database_url, tmp_path, clock, COOPMAIL_SMTP_URL=smtp.url)
        admin.create(ANA, Role.EDITOR, language="es")
        browser = admin.browser()
        for address in (ANA, "nobody@unit.example.org"):
            form = browser.get("/admin/password-reset")
            sent = browser.post(
                "/admin/password-reset", data={"email": address, "csrf_token": csrf_of(form.text)}
            )
            assert f"If {address} has an account" in sent.text
        received = smtp.wait_for(1)
    message = email.message_from_bytes(received[0].data, policy=email.policy.default)
    assert (
        message["Subject"]
        == "Elija una nueva contraseña para la administración del equipo Unidad de Cooperativas"
    )
    body = message.get_body(("plain",))
    assert body is not None
    link = re.search(r"http://testserver(/admin/password/\S+)", body.get_content())
    assert link is not None
    form = browser.get(link.group(1))
    browser.post(
        link.group(1),
        data={
            "password": "lantern meadow copper",
            "password_again": "lantern meadow copper",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert admin.log_in(admin.browser(), ANA, "lantern meadow copper").status_code == 303


def test_the_audit_log_is_read_filtered_and_exported_by_owners_only(admin: Admin) -> None:
    admin.create(OWNER, Role.OWNER)
    admin.create(ANA, Role.ADMIN)
    admin.log_in(admin.browser(), ANA, "wrong password entirely")
    owner = admin.signed_in(OWNER)
    page = owner.get("/admin/audit", params={"action": "login.failed"})
    assert "login.failed" in page.text and "staff.created" not in page.text
    assert admin.signed_in(ANA).get("/admin/audit").status_code == 200
    assert "/admin/audit/export" not in admin.signed_in(ANA).get("/admin/audit").text
    export = admin.post(owner, "/admin/audit", "/admin/audit/export", {"action": "staff."})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:5] == ["id", "at", "actor", "actor_id", "action"]
    assert {row[4] for row in rows[1:]} == {"staff.created"}
    with admin.session() as session:
        exported = query_audit(
            session, actor=Actor.system(), filters=AuditFilter(action="audit.exported")
        )
        assert [entry.actor for entry in exported.entries] == [OWNER]


def test_settings_show_where_each_value_comes_from_with_secrets_hidden(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    admin = make_admin(
        engine,
        database_url,
        tmp_path,
        clock,
        COOPMAIL_SMTP_URL="smtp://relay:s3cretpw@mail.example:587",
    )
    admin.create(OWNER, Role.OWNER)
    page = admin.signed_in(OWNER).get("/admin/settings").text
    assert "s3cretpw" not in page and admin.settings.require_secret_key().reveal() not in page
    assert "set (hidden)" in page and "environment" in page and "default" in page
    assert "smtp://relay:***@mail.example:587" in page


def test_the_dashboard_counts_the_month_and_says_what_needs_attention(admin: Admin) -> None:
    from campaigns.models import Campaign, CampaignStatus, SourceFormat

    admin.create(ANA, Role.VIEWER)
    add_partner(admin)
    with session_scope(admin.engine) as session:
        session.add(
            Campaign(
                subject="Letter from Geneva",
                template="solidarity-letter",
                source_format=SourceFormat.MARKDOWN,
                source_name="letter.md",
                body="Hello",
                from_address="coop@example.org",
                status=CampaignStatus.PAUSED,
                status_reason="the relay refused every message",
            )
        )
    page = admin.signed_in(ANA).get("/admin/").text
    assert "Needs attention" in page and "Letter from Geneva" in page
    assert "the relay refused every message" in page
    assert '<svg class="plot"' in page and 'aria-labelledby="plot-title plot-desc"' in page
    assert "Over the last 30 days: 1 subscribes" in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/subscribers",
        "/admin/subscribers?q=lucia",
        "/admin/subscribers/{id}",
        "/admin/subscribers/{id}/erase",
        "/admin/suppressions",
        "/admin/lists",
        "/admin/lists/partners",
    ],
)
def test_what_a_subscriber_typed_shows_as_text_everywhere(admin: Admin, path: str) -> None:
    admin.create(OWNER, Role.OWNER)
    person = add_partner(admin, name=XSS_NAME, attributes={XSS_VALUE: XSS_VALUE})
    with session_scope(admin.engine) as session:
        partners = get_list(session, name="partners")
        partners.title = XSS_NAME
    html = admin.signed_in(OWNER).get(path.format(id=person)).text
    assert "<script>window" not in html and "<img src=x" not in html
    assert 'onerror="window' not in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Tableau de bord", "Abonnés par liste", "Se déconnecter"]),
        ("es", ["Panel", "Suscriptores por lista", "Cerrar sesión"]),
    ],
)
def test_each_person_reads_the_admin_in_their_language(
    admin: Admin, language: str, words: list[str]
) -> None:
    admin.create(ANA, Role.ADMIN, language=language)
    page = admin.signed_in(ANA).get("/admin/").text
    assert f'<html lang="{language}">' in page
    assert all(word in page for word in words)
    assert "Dashboard" not in page and "Log out" not in page
