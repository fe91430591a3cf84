"""A digest issue waiting for approval, through a TestClient: the dashboard names its month
in words and links to it; editing it in the studio (an introduction) keeps the news
items the digest made, and a value the form did not give back is refused, not lost."""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session

from campaigns.drafts import get_campaign
from coopmail.db import session_scope
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from tests.conftest import Cli
from tests.coopmail.web.admin.conftest import Admin

ADMIN = "adam@unit.example.org"
STORIES = {
    "Seed bank opens in the highlands": "https://www.example.org/news/seed-bank",
    "Fishers elect a new board": "https://www.example.org/news/fishers-board",
}


def waiting_digest(admin: Admin, run: Cli) -> int:
    with session_scope(admin.engine) as session:
        create_list(session, name="partners", title="Partners", public=True)
    for day, (title, link) in enumerate(STORIES.items(), start=5):
        run.ok("news", "add", "--title", title, "--date", f"2026-11-{day:02d}", "--link", link)
    run.ok("digest", "configure", "--list", "partners", "--cron", "0 9 1 * *", "--draft")
    built = run.ok("digest", "run", "--list", "partners", "--month", "2026-11", "--json")
    campaign_id: int = built.json()["campaign_id"]
    return campaign_id


def editor_form(page: str) -> dict[str, str]:
    """The edit page's fields as the browser would post them back."""
    fields = dict(re.findall(r'<input type="hidden" name="(meta_\w+)" value="([^"]*)"', page))
    sender = re.search(r'id="sender".*?<option value="([^"]+)" selected>', page, re.DOTALL)
    subject = re.search(r'id="subject" name="subject" value="([^"]+)"', page)
    assert sender is not None and subject is not None
    return {
        **{name: html.unescape(value) for name, value in fields.items()},
        "kind": "digest",
        "lists": "partners",
        "subject": html.unescape(subject.group(1)),
        "sender": html.unescape(sender.group(1)),
        "language": "en",
        "format": "markdown",
    }


def titles(session: Session, campaign_id: int) -> list[str]:
    session.expire_all()
    campaign = get_campaign(session, campaign_id=campaign_id)
    return [item["title"] for month in campaign.meta["months"] for item in month["items"]]


def test_the_dashboard_names_the_waiting_digest_and_links_to_it(admin: Admin, run: Cli) -> None:
    digest = waiting_digest(admin, run)
    admin.create(ADMIN, Role.ADMIN, language="fr")
    page = admin.signed_in(ADMIN).get("/admin/").text
    assert "novembre 2026" in page and "2026-11" not in page
    assert f'<a href="/admin/campaigns/{digest}">' in page


def test_an_introduction_written_in_the_studio_keeps_the_digest_items(
    admin: Admin, run: Cli, session: Session
) -> None:
    digest = waiting_digest(admin, run)
    admin.create(ADMIN, Role.ADMIN)
    browser = admin.signed_in(ADMIN)
    edit = f"/admin/campaigns/{digest}/edit"
    form = editor_form(browser.get(edit).text)
    assert set(form) >= {"meta_months"}
    saved = admin.post(browser, edit, edit, {**form, "body": "A month of cooperative news."})
    assert saved.status_code == 303, saved.text
    assert sorted(titles(session, digest)) == sorted(STORIES)
    assert get_campaign(session, campaign_id=digest).body == "A month of cooperative news."
    shown = browser.get(f"/admin/campaigns/{digest}/preview?view=desktop").text
    assert all(f'href="{link}"' in shown for link in STORIES.values())

    broken = admin.post(browser, edit, edit, {**form, "meta_months": '[{"label": '})
    assert broken.status_code == 400
    assert "months is not as the digest made it" in html.unescape(broken.text)
    assert sorted(titles(session, digest)) == sorted(STORIES)
