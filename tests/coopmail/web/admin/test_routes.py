"""The route table: every admin route declares who may use it, and the one guard answers
exactly that for every role and for someone not logged in; every form needs its CSRF
token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from campaigns.content import read_content
from campaigns.drafts import create_campaign
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media
from campaigns.models import BounceEvent
from campaigns.news import add_item
from coopmail.apikeys import create_api_key
from coopmail.db import session_scope
from coopmail.jobs.models import JobState
from coopmail.jobs.runner import submit
from coopmail.staff import accounts
from coopmail.staff.models import AuditEntry, SessionStage, StaffSession
from coopmail.staff.roles import Actor, Permission, Role, allows
from coopmail.web.admin.access import Open
from coopmail.web.admin.routes import AdminRoute
from mailer.bounces import BounceKind
from subscribers.importer import ImportSummary
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from templates import sample_path
from tests.campaigns.media.images import png
from tests.coopmail.web.admin.conftest import Admin

ROLES = {role: f"{role.value}@unit.example.org" for role in Role}
TARGET = "target@unit.example.org"
SCRIPT = {"X-Requested-With": "fetch"}


@dataclass
class World:
    """Something real behind every path parameter of the table."""

    values: dict[str, str]


def build_world(admin: Admin) -> World:
    for role, email in ROLES.items():
        admin.create(email, role)
    target = admin.create(TARGET, Role.EDITOR)
    admin.token_for(TARGET)
    with session_scope(admin.engine) as session:
        partners = create_list(session, name="partners", title="Letters to partners")
        person = subscribe(
            session,
            email="lucia@andes.example.org",
            mailing_list=partners,
            source=ConsentSource.STAFF,
            wording="asked in writing",
            status=SubscriptionStatus.CONFIRMED,
        ).subscriber
        event = BounceEvent(
            message_key="k" * 64, kind=BounceKind.HARD, email=person.email, diagnostic="550"
        )
        session.add(event)
        key = create_api_key(session, name="website-form").key
        campaign = create_campaign(
            session,
            composer=admin.context.composer,
            content=read_content(sample_path("news-article")),
            default_sender=admin.settings.from_address,
        )
        image = prepare_image(png(), name="chart.png", limits=ImageLimits())
        media = add_media(
            session,
            store=admin.context.media(),
            image=image,
            filename="chart.png",
            alt_text="A chart",
            now=admin.clock(),
        ).item
        news = add_item(
            session,
            title="Solar villages",
            published_on=admin.clock().date(),
            link="https://coop.example.org/solar",
        )
        session.flush()
        session_id = session.scalars(
            select(StaffSession.id).where(StaffSession.account_id == target)
        ).first()
        link = accounts.invite(
            session,
            actor=Actor.system(),
            reference=TARGET,
            signer=admin_signer(admin),
            now=admin.clock(),
        )
        values = {
            "name": "partners",
            "subscriber_id": str(person.id),
            "event_id": str(event.id),
            "key_id": str(key.id),
            "media_id": str(media.id),
            "account_id": str(target),
            "session_id": str(session_id),
            "token": link.rsplit("/", 1)[1],
            "campaign_id": str(campaign.id),
            "item_id": str(news.id),
            "rest": "no-such-page",
            "upload_id": _upload(admin),
            "job_id": str(_finished_import(session, admin)),
        }
    return World(values=values)


def _upload(admin: Admin) -> str:
    """A file uploaded for import, waiting for its columns to be mapped."""
    folder = admin.settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    upload_id = "0123456789abcdef" * 2
    (folder / f"{upload_id}.csv").write_text("email,name\nana@example.org,Ana\n")
    (folder / f"{upload_id}.json").write_text('{"filename": "partners.csv"}')
    return upload_id


def _finished_import(session: Any, admin: Admin) -> int:
    """An import job that ended with a rejects file to download."""
    rejects = admin.settings.data_dir / "imports" / "done.rejects.csv"
    rejects.write_text("line,reason,email\n2,email: not an address,nobody\n")
    job = submit(session, kind="import", parameters={"list": "partners"}, created_by=None,
                 now=admin.clock())  # fmt: skip
    job.state, job.result = (
        JobState.DONE,
        ImportSummary(rows=1, rejected=1, rejects_file=str(rejects)).as_dict(),
    )
    session.flush()
    return job.id


def admin_signer(admin: Admin) -> accounts.LinkSigner:
    return accounts.LinkSigner.from_secret(
        secret_key=admin.settings.require_secret_key().reveal(), base_url=admin.base_url
    )


def concrete(route: AdminRoute, world: World) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: world.values[m.group(1)], route.full_path)


def check(admin: Admin, route: AdminRoute, who: Role | None, world: World) -> str | None:
    """What is wrong with the answer to ``who`` on ``route``, or None."""
    path = concrete(route, world)
    browser = admin.browser() if who is None else admin.signed_in(ROLES[who])
    data: dict[str, str] = {}
    if route.method == "POST":
        token = browser.get("/admin/login").text if who is None else browser.get("/admin/").text
        found = re.search(r'name="csrf_token" value="([^"]+)"', token)
        data = {"csrf_token": found.group(1)} if found else {}
    answer = browser.request(route.method, path, data=data or None, follow_redirects=False)
    status, location = answer.status_code, answer.headers.get("location", "")
    # The guard's refusal, not a page that ends at the login page (logging out does).
    to_login = status == 303 and location.startswith("/admin/login") and "done=" not in location
    where = f"{route.method} {path} as {who.value if who else 'anonymous'}: {status} {location}"
    access = route.access
    if route.path == "/{rest:path}":
        return None if status == 404 else where
    if isinstance(access, Permission):
        if who is None:
            scripted = browser.request(
                route.method, path, headers=SCRIPT, data=data or None, follow_redirects=False
            )
            if not to_login or scripted.status_code != 401:
                return where + f" (script: {scripted.status_code})"
            return None
        if not allows(who, access):
            return None if status == 403 else where
        if route.method == "GET":
            return None if status == 200 or (route.path == "" and status == 308) else where
        return None if status not in (401, 403) and not to_login else where
    if access is Open.ANYONE:  # a page of its own, whatever it says (a login can fail)
        return None if not to_login and status != 401 else where
    # The second-factor and enrolment steps: only for a session at that stage.
    if who is None:
        return None if to_login else where
    return None if status == 303 and location == "/admin/" else where


def test_every_route_answers_each_role_and_anonymous_as_its_permission_says(
    admin: Admin,
) -> None:
    world = build_world(admin)
    problems = [
        problem
        for route in admin.routes()
        for who in [None, *Role]
        if (problem := check(admin, route, who, world)) is not None
    ]
    assert problems == [], "\n".join(problems)


def every_route(routes: list[Any]) -> Iterator[Any]:
    """The application's routes, through the routers it includes (unprefixed here)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
        else:
            yield route


def test_every_admin_route_of_the_application_is_a_row_of_the_table(admin: Admin) -> None:
    """A route added around the table, without a permission, fails here."""
    table = admin.routes()
    assert all(isinstance(route.access, Permission | Open) for route in table)
    declared = {(route.method, route.full_path) for route in table}
    served = {
        (method, route.path)
        for route in every_route(admin.app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/admin")
        for method in route.methods
    }
    assert served == declared
    # Every POST reads its form and checks CSRF, except the fallback that changes nothing.
    assert {r.path for r in table if r.method == "POST" and not r.changes_state} == {"/{rest:path}"}


def test_every_form_without_its_csrf_token_is_refused(admin: Admin) -> None:
    world = build_world(admin)
    owner = admin.signed_in(ROLES[Role.OWNER])
    refused = []
    for route in admin.routes():
        if route.method != "POST" or not route.changes_state:
            continue
        path = concrete(route, world)
        browser = owner if isinstance(route.access, Permission) else admin.browser()
        if route.access in (Open.SECOND_FACTOR, Open.ENROL):
            browser = admin.browser()
            stage = (
                SessionStage.SECOND_FACTOR
                if route.access is Open.SECOND_FACTOR
                else SessionStage.ENROL
            )
            browser.cookies.set(admin.cookie_name, admin.token_for(TARGET, stage))
        for data in ({}, {"csrf_token": "0" * 64}):
            answer = browser.post(path, data=data, follow_redirects=False)
            if answer.status_code != 403:
                refused.append(f"POST {path} with {data}: {answer.status_code}")
        scripted = browser.post(path, headers={**SCRIPT, "X-CSRF-Token": "forged"})
        if scripted.status_code != 403:
            refused.append(f"POST {path} by a script with a forged header: {scripted.status_code}")
    assert refused == []
    with admin.session() as session:  # and nothing happened
        assert accounts.find_account(session, reference=TARGET).disabled_at is None


def test_a_script_sends_its_csrf_token_in_a_header(admin: Admin) -> None:
    world = build_world(admin)
    owner = admin.signed_in(ROLES[Role.OWNER])
    page = owner.get(f"/admin/staff/{world.values['account_id']}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = owner.post(
        f"/admin/staff/{world.values['account_id']}/sessions/{world.values['session_id']}/revoke",
        headers={**SCRIPT, "X-CSRF-Token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with admin.session() as session:
        assert session.get(StaffSession, int(world.values["session_id"])) is None


ROW_IDS = ("subscriber_id", "event_id", "media_id", "account_id", "session_id", "campaign_id",
           "item_id", "job_id")  # fmt: skip
NOT_IDS = (str(2**63), "99999999999999999999", "٣", "0", "-1")  # "٣" is 3 to int()


def test_a_path_that_cannot_name_a_row_is_not_found_on_every_route(admin: Admin) -> None:
    """Past a BIGINT, another script's digits, zero: SQLite's driver raises on the first
    and int() reads the second as 3. Every route with an id answers "not found" (404, or a
    form's "no such …" redirect), never a 500, and changes nothing (the audit log, where
    every staff change is written, stays as it was)."""
    world = build_world(admin)
    audited = _audit_entries(admin)
    owner = admin.signed_in(ROLES[Role.OWNER])
    token = re.search(r'name="csrf_token" value="([^"]+)"', owner.get("/admin/").text)
    assert token is not None
    problems = []
    tried = 0
    for route in admin.routes():
        names = set(re.findall(r"\{(\w+)\}", route.full_path))
        for name in names & set(ROW_IDS):
            for wrong in NOT_IDS:
                path = concrete(route, World(values={**world.values, name: wrong}))
                data = {"csrf_token": token.group(1)} if route.method == "POST" else None
                answer = owner.request(route.method, path, data=data, follow_redirects=False)
                tried += 1
                found_nothing = answer.status_code == 404 or (
                    route.method == "POST" and answer.status_code in (303, 400)
                )
                if not found_nothing or answer.status_code >= 500:
                    problems.append(f"{route.method} {path}: {answer.status_code}")
    assert tried > 100 and problems == []
    assert _audit_entries(admin) == audited


def _audit_entries(admin: Admin) -> int:
    with session_scope(admin.engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
