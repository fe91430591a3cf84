"""News items and the digest in the admin: the same use cases as `coopmail news` and
`coopmail digest`, every change in the audit log, the items without a link flagged, and
the words in the staff member's language."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from campaigns.digest import build_issue, configure_digest
from campaigns.models import Digest
from campaigns.news import NewsItem, add_item
from coopmail.db import session_scope
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from tests.campaigns.test_news import SEED
from tests.conftest import Cli, Clock
from tests.coopmail.test_feeds import feed_server  # noqa: F401  (a fixture)
from tests.coopmail.web.admin.conftest import Admin, make_admin

EDITOR = "eli@unit.example.org"
ADMIN = "ada@unit.example.org"
VIEWER = "vic@unit.example.org"
ITEM = {
    "title": "Solar villages",
    "date": "2026-11-12",
    "link": "https://coop.example.org/solar",
    "category": "Energy",
    "summary": "Five cooperatives\r\n\r\nlight forty villages.",
    "image_url": "",
    "language": "",
}


def actions(admin: Admin) -> list[str]:
    with admin.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_staff_add_edit_translate_and_delete_an_item(admin: Admin, run: Cli) -> None:
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)
    added = admin.post(browser, "/admin/news", "/admin/news", ITEM)
    assert added.status_code == 303
    page = added.headers["location"]
    found = re.fullmatch(r"/admin/news/(\d+)\?done=news_added", page)
    assert found is not None
    item_id = int(found[1])
    shown = browser.get(page)
    assert "The news item is added." in shown.text and 'value="Solar villages"' in shown.text
    listing = browser.get("/admin/news")
    assert "November 2026" in listing.text and f'href="/admin/news/{item_id}"' in listing.text
    assert "No link: no “read more”" not in listing.text

    taken = admin.post(browser, "/admin/news", "/admin/news", {**ITEM, "title": "Again"})
    assert taken.status_code == 400
    assert f"News item {item_id} already has this address" in taken.text
    bad = admin.post(
        browser, "/admin/news", "/admin/news", {**ITEM, "link": "coop.example.org", "date": "x"}
    )
    assert bad.status_code == 400 and "Choose the date the news was published." in bad.text

    item = f"/admin/news/{item_id}"
    wrong = admin.post(browser, item, item, {**ITEM, "title_fr": "", "summary_fr": "Résumé"})
    assert wrong.status_code == 400 and "Write a title" in wrong.text
    saved = admin.post(
        browser,
        item,
        item,
        {**ITEM, "link": "", "title_fr": "Villages solaires", "summary_fr": "", "title_es": ""},
    )
    assert saved.headers["location"] == f"{item}?done=news_saved"
    with admin.session() as session:
        held = session.get(NewsItem, item_id)
        assert held is not None
        assert (held.link, held.summary, held.translations) == (
            None,
            "Five cooperatives\n\nlight forty villages.",
            {"fr": {"title": "Villages solaires"}},
        )
    assert "No link: no “read more” in the digest" in browser.get("/admin/news").text
    assert 'value="Villages solaires"' in browser.get(item).text
    # The CLI sees the same item.
    assert run.ok("news", "list", "--json").json()[0]["link"] is None

    unconfirmed = admin.post(browser, item, f"{item}/delete", {})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    deleted = admin.post(browser, item, f"{item}/delete", {"confirm": "yes"})
    assert deleted.headers["location"] == "/admin/news?done=news_removed"
    assert browser.get(item).status_code == 404
    assert actions(admin)[-3:] == ["news.added", "news.changed", "news.removed"]


def test_errors_read_in_the_staff_members_language(admin: Admin) -> None:
    admin.create(EDITOR, Role.EDITOR, language="fr")
    browser = admin.signed_in(EDITOR)
    bad = admin.post(browser, "/admin/news", "/admin/news", {**ITEM, "link": "ftp://x.org/a"})
    assert bad.status_code == 400
    assert "Écrivez une adresse qui commence par https://" in bad.text
    assert '<a href="/admin/news" aria-current="page">Actualités</a>' in bad.text


def test_a_viewer_reads_the_news_but_has_no_form(admin: Admin) -> None:
    admin.create(VIEWER, Role.VIEWER)
    with session_scope(admin.engine) as session:
        item = add_item(
            session, title="Market day", published_on=date(2026, 11, 3), link="https://e.org/m"
        ).id
    browser = admin.signed_in(VIEWER)
    listing = browser.get("/admin/news")
    assert "Market day" in listing.text and 'method="post"' not in listing.text.split("<main")[1]
    page = browser.get(f"/admin/news/{item}")
    assert page.status_code == 200 and f'action="/admin/news/{item}"' not in page.text
    assert 'href="/admin/news?month=2026-11"' in page.text


def test_a_listing_and_a_csv_are_imported_and_items_without_links_flagged(
    admin: Admin, seeds: Path
) -> None:
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)

    def upload(kind: str, name: str, body: bytes) -> object:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/admin/news").text)
        assert token is not None
        return browser.post(
            "/admin/news/import",
            data={"kind": kind, "csrf_token": token[1]},
            files={"file": (name, body, "text/plain")},
            follow_redirects=False,
        )

    listing = upload("listing", SEED, (seeds / SEED).read_bytes())
    assert listing.status_code == 200  # type: ignore[attr-defined]
    text = listing.text  # type: ignore[attr-defined]
    assert "10 added, 0 updated, 0 unchanged, 0 rejected." in text
    assert "10 items below have no link" in text
    assert text.count("No link: no “read more” in the digest") == 10
    again = upload("listing", SEED, (seeds / SEED).read_bytes())
    assert "0 added, 0 updated, 10 unchanged" in again.text  # type: ignore[attr-defined]

    csv = (
        b"title,date,category,summary,link\n"
        b"Women's network,2024-04-01,Gender,A new network.,https://coop.example.org/women\n"
        b"Bad,01/04/2024,Gender,x,https://coop.example.org/bad\n"
    )
    imported = upload("csv", "news.csv", csv).text  # type: ignore[attr-defined]
    assert "1 added, 0 updated, 0 unchanged, 1 rejected." in imported
    assert "news.csv, line 3: date &#39;01/04/2024&#39; is not a date" in imported
    not_text = upload("csv", "news.csv", b"title,date\n\xff\xfe\n")
    assert not_text.status_code == 400  # type: ignore[attr-defined]
    assert "not UTF-8 text" in not_text.text  # type: ignore[attr-defined]
    assert actions(admin)[-3:] == ["news.imported", "news.imported", "news.imported"]


def test_a_feed_inside_the_network_is_refused(admin: Admin, feed_server: str) -> None:  # noqa: F811
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)
    refused = admin.post(
        browser, "/admin/news", "/admin/news/import-feed", {"feed": f"{feed_server}/feed.xml"}
    )
    assert refused.status_code == 400
    assert "This feed cannot be imported" in refused.text and "inside this network" in refused.text
    with admin.session() as session:
        assert session.scalars(select(NewsItem)).first() is None


def test_a_feed_in_a_network_the_operator_allowed_is_imported_from_the_admin(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    clock: Clock,
    feed_server: str,  # noqa: F811
) -> None:
    """The unit's own website may live inside its network: naming that network in
    ``fetch_allowed_networks`` lets the admin import its feed; nothing else inside."""
    admin = make_admin(
        engine, database_url, tmp_path, clock, COOPMAIL_FETCH_ALLOWED_NETWORKS="127.0.0.1/32"
    )
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)
    url = f"{feed_server}/feed.xml"
    imported = admin.post(browser, "/admin/news", "/admin/news/import-feed", {"feed": url})
    assert imported.status_code == 200, imported.text
    assert "1 added, 0 updated, 0 unchanged, 3 rejected." in imported.text
    again = admin.post(browser, "/admin/news", "/admin/news/import-feed", {"feed": url})
    assert "0 added, 0 updated, 1 unchanged, 3 rejected." in again.text
    with admin.session() as session:
        items = session.scalars(select(NewsItem)).all()
        assert [(item.title, item.source) for item in items] == [
            ("Solar cooperatives light up & power villages", f"feed:{url}")
        ]
    assert "Solar cooperatives light up &amp; power villages" in browser.get("/admin/news").text
    assert actions(admin)[-2:] == ["news.imported", "news.imported"]
    elsewhere = admin.post(
        browser, "/admin/news", "/admin/news/import-feed", {"feed": "http://127.0.0.2:9/feed.xml"}
    )
    assert elsewhere.status_code == 400 and "inside this network" in elsewhere.text


def test_the_digest_is_configured_as_the_cli_does_and_a_month_says_what_it_has(
    admin: Admin, run: Cli
) -> None:
    admin.create(ADMIN, Role.ADMIN)
    admin.create(EDITOR, Role.EDITOR)
    with session_scope(admin.engine) as session:
        create_list(session, name="partners", title="Letters to partners")
        add_item(session, title="Harvest", published_on=date(2026, 10, 2), link="https://e.org/h")
    editor = admin.signed_in(EDITOR)
    page = editor.get("/admin/news/digest")
    assert page.status_code == 200 and 'action="/admin/news/digest"' not in page.text
    browser = admin.signed_in(ADMIN)
    form = "/admin/news/digest"
    bad = admin.post(browser, form, form, {"list": "partners", "cron": "every month"})
    assert bad.status_code == 400 and "cron line of five fields" in bad.text
    saved = admin.post(
        browser, form, form, {"list": "partners", "cron": "0 9 1 * *", "mode": "draft"}
    )
    assert saved.headers["location"] == "/admin/news/digest?done=digest_saved"
    (configured,) = run.ok("digest", "list", "--json").json()
    assert (configured["list"], configured["cron"], configured["auto_send"]) == (
        "partners",
        "0 9 1 * *",
        False,
    )
    shown = browser.get(form)
    assert "<code>0 9 1 * *</code>" in shown.text and "Waits for approval" in shown.text
    assert actions(admin)[-1] == "digest.configured"

    empty = browser.get(form, params={"month": "2026-11"})
    assert "No news items for November 2026. Months with items: October 2026." in empty.text
    october = browser.get(form, params={"month": "2026-10"})
    assert "Harvest" in october.text and "1 story." in october.text


def test_an_issue_waiting_for_approval_shows_on_the_dashboard_with_its_flags(
    admin: Admin,
) -> None:
    admin.create(ADMIN, Role.ADMIN)
    with session_scope(admin.engine) as session:
        partners = create_list(session, name="partners", title="Letters to partners")
        add_item(session, title="Solar", published_on=date(2026, 11, 2), link="https://e.org/s")
        session.add(NewsItem(title="Market day", published_on=date(2026, 11, 9), source="listing"))
        configure_digest(
            session, mailing_list=partners, cron="0 9 1 * *", auto_send=False, timezone="UTC"
        )
    with session_scope(admin.engine) as session:
        digest = session.scalars(select(Digest)).one()
        run = build_issue(
            session,
            digest=digest,
            year=2026,
            month=11,
            composer=admin.context.composer,
            sender=admin.settings.from_address,
            now=admin.clock(),
        )
    assert run.outcome == "draft" and run.campaign_id is not None
    browser = admin.signed_in(ADMIN)
    dashboard = browser.get("/admin/")
    assert f'<a href="/admin/campaigns/{run.campaign_id}">Review and send it</a>' in dashboard.text
    assert "(1 item has no link, so no “read more”)" in dashboard.text
    digest_page = browser.get("/admin/news/digest")
    assert "1 item has no link, so no “read more”: Market day" in digest_page.text
    draft = browser.get(f"/admin/campaigns/{run.campaign_id}")
    assert "1 item of this digest has no link, so no “read more” under it: Market day" in draft.text
