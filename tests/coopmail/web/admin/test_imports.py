"""The import page and the bulk actions through the admin's forms: upload, map, start,
follow the job to its end, download the rejects; tick people or take a whole search,
confirm the count, and the job does it; each step in the audit log."""

from __future__ import annotations

import csv
import io
import threading

from sqlalchemy import select

from coopmail.db import session_scope
from coopmail.housekeeping import REJECTS_KEPT, purge_rejects
from coopmail.jobs.models import Job, JobState
from coopmail.jobs.runner import DIED, JobRunner, submit
from coopmail.jobs.work import WORK, import_uploads
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from subscribers.models import ConsentSource, Subscriber, Subscription, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.admin.conftest import Admin, csrf_of

ANA = "ana@unit.example.org"
FILE = (
    "Correo,Nombre,Idioma,País\n"
    "lucia@andes.example.org,Lucía Quispe,es,Peru\n"
    "not-an-address,Someone,es,Peru\n"
    "amara@lagos.example.org,Amara Obi,en,Nigeria\n"
    'broken@example.org,"Line\nbreak",en,Ghana\n'
).encode()


def run_jobs(admin: Admin) -> None:
    runner = JobRunner(engine=admin.engine, work=WORK, stop=threading.Event(), clock=admin.clock)
    while runner.run_next():
        pass


def actions(admin: Admin) -> list[str]:
    with admin.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_admin_imports_a_file_and_downloads_its_rejects(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    with session_scope(admin.engine) as session:
        create_list(session, name="letters", title="Letters to partners")
    browser = admin.signed_in(ANA)
    token = csrf_of(browser.get("/admin/imports").text)
    uploaded = browser.post(
        "/admin/imports",
        data={"csrf_token": token},
        files={"file": ("partners.csv", FILE, "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    mapping = browser.get(uploaded.headers["location"])
    assert mapping.status_code == 200
    assert "Lucía Quispe" in mapping.text and "Correo" in mapping.text
    # The guesses: Correo holds the address, Nombre the name, Idioma the language.
    assert '<option value="email" selected>' in mapping.text

    refused = browser.post(
        uploaded.headers["location"],
        data={"csrf_token": csrf_of(mapping.text), "column_0": "name", "column_1": "name",
              "column_2": "language", "column_3": "attribute", "list": "letters", "consent": ""},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "exactly one column" in refused.text and "Say how these people" in refused.text

    started = browser.post(
        uploaded.headers["location"],
        data={"csrf_token": csrf_of(mapping.text), "column_0": "email", "column_1": "name",
              "column_2": "language", "column_3": "attribute", "list": "letters",
              "consent": "Signed up on paper at the assembly"},
        follow_redirects=False,
    )  # fmt: skip
    assert started.status_code == 303
    job_page = started.headers["location"]
    waiting = browser.get(job_page)
    assert 'http-equiv="refresh"' in waiting.text  # reloads itself without the script
    assert browser.get(job_page + "/status").json()["state"] == "queued"

    run_jobs(admin)
    status = browser.get(job_page + "/status").json()
    assert (status["state"], status["percent"], status["finished"]) == ("done", 100, True)
    done = browser.get(job_page)
    assert 'http-equiv="refresh"' not in done.text
    assert "Download the rejects file" in done.text
    rejects = browser.get(job_page + "/rejects")
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert rows[0] == ["line", "reason", "Correo", "Nombre", "Idioma", "País"]
    assert [row[0] for row in rows[1:]] == ["3", "5"]
    assert rows[1][1].startswith("email:")

    with admin.session() as session:
        lucia = session.scalar(
            select(Subscriber).where(Subscriber.email == "lucia@andes.example.org")
        )
        assert lucia is not None and lucia.attributes == {"País": "Peru"}
        assert lucia.language == "es"
    assert actions(admin)[-3:] == [
        "subscribers.import_started",
        "subscribers.imported",
        "subscribers.rejects_downloaded",
    ]

    # The rejects hold addresses: housekeeping deletes them a while after the import.
    folder = import_uploads(admin.settings)
    assert purge_rejects(admin.engine, folder=folder, now=admin.clock()) == 0
    admin.clock.advance(days=REJECTS_KEPT.days, hours=1)
    assert purge_rejects(admin.engine, folder=folder, now=admin.clock()) == 1
    assert not list(folder.glob("*.rejects.csv"))
    browser = admin.signed_in(ANA)  # a month later: the session has long ended
    gone = browser.get(job_page)
    assert "Download the rejects file" not in gone.text
    assert f"deleted {REJECTS_KEPT.days} days after the import ended" in gone.text
    assert browser.get(job_page + "/rejects").status_code == 404


def test_a_file_that_cannot_be_read_is_refused_at_upload(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    browser = admin.signed_in(ANA)
    token = csrf_of(browser.get("/admin/imports").text)
    for body in (b"", b"email,email\nx@example.org,y@example.org\n"):
        answer = browser.post(
            "/admin/imports", data={"csrf_token": token},
            files={"file": ("bad.csv", body, "text/csv")},
        )  # fmt: skip
        assert answer.status_code == 400
        assert "This file cannot be imported" in answer.text
    empty = browser.post("/admin/imports", data={"csrf_token": token})
    assert empty.status_code == 400 and "Choose a CSV file" in empty.text
    assert not list((admin.settings.data_dir / "imports").glob("*.csv"))


def test_a_viewer_sees_the_imports_but_cannot_upload(admin: Admin) -> None:
    admin.create("vera@unit.example.org", Role.VIEWER)
    browser = admin.signed_in("vera@unit.example.org")
    page = browser.get("/admin/imports")
    assert page.status_code == 200 and 'type="file"' not in page.text
    answer = browser.post(
        "/admin/imports", data={"csrf_token": csrf_of(page.text)},
        files={"file": ("partners.csv", FILE, "text/csv")},
    )  # fmt: skip
    assert answer.status_code == 403


def people(admin: Admin, count: int) -> list[int]:
    with session_scope(admin.engine) as session:
        letters = create_list(session, name="letters", title="Letters")
        create_list(session, name="digest", title="Digest")
        return [
            subscribe(
                session, email=f"p{n:02}@coop.example.org", mailing_list=letters,
                source=ConsentSource.FORM, wording="ticked", status=SubscriptionStatus.CONFIRMED,
            ).subscriber.id
            for n in range(count)
        ]  # fmt: skip


def test_bulk_unsubscribe_of_the_people_ticked(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    ids = people(admin, 5)
    browser = admin.signed_in(ANA)
    page = browser.get("/admin/subscribers")
    assert 'name="selected"' in page.text
    confirm = browser.post(
        "/admin/subscribers/bulk",
        data={"csrf_token": csrf_of(page.text), "action": "unsubscribe", "scope": "selected",
              "selected": [str(ids[0]), str(ids[1])]},
    )  # fmt: skip
    assert confirm.status_code == 200 and "This applies to 2 people." in confirm.text
    started = browser.post(
        "/admin/subscribers/bulk/start",
        data={"csrf_token": csrf_of(confirm.text), "action": "unsubscribe", "scope": "selected",
              "selected": [str(ids[0]), str(ids[1])]},
        follow_redirects=False,
    )  # fmt: skip
    assert started.status_code == 303
    run_jobs(admin)
    assert browser.get(started.headers["location"] + "/status").json()["state"] == "done"
    with admin.session() as session:
        found = session.execute(select(Subscription.subscriber_id, Subscription.status))
        statuses = {row[0]: row[1] for row in found}
    assert [statuses[i] for i in ids] == [SubscriptionStatus.UNSUBSCRIBED] * 2 + [
        SubscriptionStatus.CONFIRMED
    ] * 3
    assert actions(admin)[-2:] == ["subscribers.bulk_requested", "subscribers.bulk_unsubscribe"]


def test_bulk_add_and_erase_on_a_whole_search(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN)
    ids = people(admin, 7)
    browser = admin.signed_in(ANA)
    token = csrf_of(browser.get("/admin/subscribers").text)
    whole = {"csrf_token": token, "scope": "filter", "filter_q": "p0", "filter_list": "letters"}
    nobody = browser.post(
        "/admin/subscribers/bulk", data={**whole, "action": "add", "scope": "selected"}
    )
    assert nobody.status_code == 400 and "Tick at least one person" in nobody.text
    confirm = browser.post("/admin/subscribers/bulk", data={**whole, "action": "add"})
    assert "This applies to 7 people." in confirm.text
    needs_consent = browser.post(
        "/admin/subscribers/bulk/start", data={**whole, "action": "add", "list": "digest"}
    )
    assert needs_consent.status_code == 400
    browser.post(
        "/admin/subscribers/bulk/start",
        data={**whole, "action": "add", "list": "digest", "consent": "Asked for the digest"},
    )
    run_jobs(admin)
    with admin.session() as session:
        on_digest = session.scalars(
            select(Subscription.subscriber_id)
            .join(Subscription.mailing_list)
            .where(Subscription.mailing_list.has(name="digest"))
        ).all()
    assert sorted(on_digest) == sorted(ids)

    browser.post("/admin/subscribers/bulk/start", data={**whole, "action": "erase"})
    run_jobs(admin)
    with admin.session() as session:
        assert session.scalars(select(Subscriber)).all() == []
        job = session.scalars(select(Job).order_by(Job.id.desc())).first()
        assert job is not None and job.state is JobState.DONE
        assert job.result == {"changed": 7, "unchanged": 0, "refused": 0}


def test_a_job_whose_process_died_says_so_in_the_staff_language(admin: Admin) -> None:
    admin.create(ANA, Role.ADMIN, language="es")
    with session_scope(admin.engine) as session:
        job = submit(session, kind="import", parameters={"filename": "socios.csv", "list": "x"},
                     created_by=None, now=admin.clock())  # fmt: skip
        job.state, job.error = JobState.FAILED, DIED
        session.flush()
        job_id = job.id
    page = admin.signed_in(ANA).get(f"/admin/jobs/{job_id}")
    assert page.status_code == 200
    assert "El proceso que ejecutaba esta tarea se detuvo" in page.text
    assert 'http-equiv="refresh"' not in page.text
