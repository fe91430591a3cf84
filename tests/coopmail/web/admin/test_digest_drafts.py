"""A digest issue waiting for approval, through a TestClient: the dashboard names its month
in words and links to it; editing it in the studio (an introduction) keeps the news
items the digest made, and a value the form did not give back is refused, not lost."""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.drafts import get_campaign
from coopmail.db import session_scope
from coopmail.staff.models import AuditEntry
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


def test_a_waiting_digest_reads_its_news_again_from_its_page_and_the_cli(
    admin: Admin, run: Cli, session: Session
) -> None:
    """A story added to the month after the issue was made reaches the issue from the
    campaign's page (an editor may; the audit log says who) and from the command line."""
    digest = waiting_digest(admin, run)
    admin.create(ADMIN, Role.EDITOR)
    browser = admin.signed_in(ADMIN)
    page = f"/admin/campaigns/{digest}"
    assert "Read the news items again" in browser.get(page).text
    link = "https://www.example.org/news/market-day"
    run.ok("news", "add", "--title", "Market day", "--date", "2026-11-20", "--link", link)

    refreshed = admin.post(browser, page, f"{page}/digest-refresh", {})
    assert refreshed.status_code == 303
    assert refreshed.headers["location"] == f"{page}?done=digest_refreshed"
    assert sorted(titles(session, digest)) == sorted([*STORIES, "Market day"])
    with admin.session() as db:
        entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and (entry.action, entry.actor) == (
            "campaign.digest_refreshed",
            ADMIN,
        )
    again = admin.post(browser, page, f"{page}/digest-refresh", {})
    assert again.headers["location"] == f"{page}?done=digest_unchanged"

    told = run.ok("digest", "refresh", str(digest), "--json").json()
    assert (told["items"], told["changed"], told["without_link"]) == (3, False, [])
    run.ok("news", "add", "--title", "Harvest fair", "--date", "2026-11-25", "--link",
           "https://www.example.org/news/harvest")  # fmt: skip
    said = run.ok("digest", "refresh", str(digest))
    assert said.stderr == f"Campaign {digest} has the 4 news items of 2026-11 again.\n"
    letter = run("digest", "refresh", "999")
    assert letter.exit_code == 1 and "there is no campaign 999" in letter.stderr


def test_only_a_digest_issue_offers_to_read_the_news_again(admin: Admin, run: Cli) -> None:
    waiting_digest(admin, run)
    (run.workdir / "letter.md").write_text(
        "---\nsubject: Thanks\ntemplate: solidarity-letter\nlists: [partners]\n---\nDear all,\n"
    )
    letter = run.ok("campaigns", "create", "--content", "letter.md", "--json").json()["id"]
    admin.create(ADMIN, Role.ADMIN)
    browser = admin.signed_in(ADMIN)
    page = f"/admin/campaigns/{letter}"
    assert "Read the news items again" not in browser.get(page).text
    refused = admin.post(browser, page, f"{page}/digest-refresh", {})
    assert refused.status_code == 409
    assert "This campaign was not made by a digest" in refused.text
    cli = run("digest", "refresh", str(letter))
    assert cli.exit_code == 1
    assert cli.stderr == (
        f"Error: campaign {letter} is not a digest's issue; "
        "`coopmail digest run` makes a digest's issues\n"
    )
