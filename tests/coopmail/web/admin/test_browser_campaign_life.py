"""A campaign's whole life in headless Chromium, against `coopmail serve` run in this
process (web server, delivery worker, scheduler) and the recording SMTP server.

An editor uploads an image and corrects its description, writes a letter and watches the
sandboxed preview follow their typing, puts the image in, sends a test that arrives; the
editor cannot send to the lists, not even by posting the form. An admin schedules the
letter, which the scheduler releases, sends another campaign now and watches its progress
reach the total, opens the report, whose figures are what the SMTP server received, and
reads both in `/archive` and its feed (parsed with feedparser). Content with <script>,
onerror= and javascript: never runs in the preview or the archive. Then one campaign of
each kind (a letter, an interview, a news article with an uploaded image, a digest) goes
out from the browser and the archive and the feed show all four. Screenshots in
test-artifacts/studio/.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import feedparser
import pytest

from campaigns.models import CampaignStatus
from coopmail.db import session_scope
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.campaigns.media.images import jpeg, png
from tests.conftest import Cli
from tests.coopmail.web.admin.conftest import (
    SECRET_KEY,
    Serving,
    mark_for_archive,
    save_draft,
    send_now,
    sign_in,
    start_campaign,
    upload_image,
)
from tests.coopmail.web.admin.test_browser_admin import DESKTOP, PHONE, ROOT
from tests.coopmail.web.public.test_browser_public import accessibility_problems
from tests.smtp_server import ReceivedMessage

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Frame, Page

ARTIFACTS = ROOT / "test-artifacts" / "studio"
EDITOR = "edith@unit.example.org"
ADMIN = "adam@unit.example.org"
PARTNERS = {
    "lucia@andes-tejedoras.example.org": "Lucía Quispe",
    "kofi@cacao-union.example.org": "Kofi Mensah",
    "mei@harbour-coop.example.org": "Mei Lin",
}
HELD = "kofi@cacao-union.example.org"  # whose message the SMTP server keeps waiting
WAIT = 60_000  # ms: what a step may take on a loaded machine before the test fails


@pytest.fixture(autouse=True)
def _patient_expectations() -> Iterator[None]:
    """Playwright's expect() waits as long as a step may take here, then as before."""
    from playwright.sync_api import expect  # where the browser fixture found it

    expect.set_options(timeout=WAIT)
    try:
        yield
    finally:
        expect.set_options(timeout=5_000)


def hostile(image_url: str) -> str:
    """HTML that tries to run a script wherever it is shown: <script>, onerror= (and an
    onload= that fires by itself), javascript: links, in capitals and split by a tab."""
    return (
        "<p>Before <script>alert('script')</script> after.</p>\n"
        f'<p><img src="{image_url}" alt="The looms" onerror="alert(\'onerror\')"></p>\n'
        '<svg onload="alert(\'onload\')"><circle r="4"></circle></svg>\n'
        "<p><a href=\"javascript:alert('link')\">a harmless-looking link</a></p>\n"
        "<p><a href=\"JaVaScRiPt:alert('capitals')\">a link in capitals</a></p>\n"
        "<p><a href=\"java&#09;script:alert('tab')\">a link with a tab</a></p>\n"
        '<p>Read more on <a href="https://www.example.org/looms">our site</a>.</p>\n'
    )


def nothing_can_run(page: Page | Frame) -> None:
    """No script, no handler attribute, no svg, no link or frame to javascript:."""
    from playwright.sync_api import expect

    for attack in ("script", "svg", "iframe", "[onerror]", "[onload]"):
        expect(page.locator(attack)).to_have_count(0)
    addresses = page.evaluate(
        "() => [...document.querySelectorAll('[href], [src], [action]')]"
        ".map(e => e.href || e.src || e.action || '')"
    )
    assert not [a for a in addresses if a.strip().lower().startswith("javascript:")], addresses
    for text in ("a harmless-looking link", "a link in capitals", "a link with a tab"):
        links = page.locator("a", has_text=text)
        if links.count():  # left as words by the sanitiser: clicking leads nowhere
            links.first.click()


def public_partners(serve: Serving, **names: str) -> None:
    """The public list `partners` (so its campaigns may be archived) and its people."""
    with session_scope(serve.admin.engine) as session:
        partners = create_list(session, name="partners", title="Partners", public=True)
        for address, name in names.items():
            subscribe(
                session,
                email=address,
                mailing_list=partners,
                source=ConsentSource.FORM,
                wording="ticked the box",
                status=SubscriptionStatus.CONFIRMED,
                name=name,
            )


class Watch:
    """What must never happen in a page: a dialog (alert), a script error, a console
    error (but a resource that does not load: the browser's own favicon request)."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def clean(self) -> None:
        assert self.dialogs == []
        assert self.errors == []


def kept(page: Page, name: str) -> None:
    """The page is accessible, and kept as a screenshot in test-artifacts/studio/."""
    assert page.get_attribute("html", "lang")
    assert accessibility_problems(page) == [], name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def new_context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(WAIT)
    return context


def preview(page: Page) -> Frame:
    frame = page.frame(name="preview-frame")
    assert frame is not None
    return frame


def subject_of(message: ReceivedMessage) -> str:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    return str(parsed["Subject"])


def html_of(message: ReceivedMessage) -> str:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def received(
    serve: Serving, subject: str, count: int, timeout: float = WAIT / 1000
) -> list[ReceivedMessage]:
    """The messages with this subject, once the SMTP server has at least ``count``."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in serve.smtp.messages if subject_of(m) == subject]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} messages “{subject}”, expected {count}")
        with contextlib.suppress(AssertionError):  # until the next message, or a while
            serve.smtp.wait_for(len(serve.smtp.messages) + 1, timeout=0.5)


def figure(page: Page, label: str) -> str:
    return page.locator("ul.figures li", has_text=label).locator("strong").inner_text()


def read_archive(page: Page, serve: Serving, watch: Watch, subjects: list[str]) -> Any:
    """The archive lists these subjects (among others); the feed, parsed, has them too."""
    from playwright.sync_api import expect

    page.goto(f"{serve.base_url}/archive")
    listed = page.locator("ol.archive a")
    for subject in subjects:
        expect(listed.filter(has_text=subject)).to_have_count(1)
    answer = page.request.get(f"{serve.base_url}/archive/feed.xml")
    assert answer.ok
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.body())
    assert not feed.bozo, feed.bozo_exception
    titles = [entry.title for entry in feed.entries]
    for subject in subjects:
        assert titles.count(subject) == 1, titles
    for entry in feed.entries:
        assert entry.link.startswith(f"{serve.base_url}/archive/")
    watch.clean()
    return feed


def test_a_letter_from_a_blank_page_to_the_archive(
    browser: Browser, serve: Serving, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = request.node.callspec.params["database_url"]
    serve.admin.create(EDITOR, Role.EDITOR, name="Edith")
    serve.admin.create(ADMIN, Role.ADMIN, name="Adam")
    public_partners(serve, **PARTNERS)
    photo = tmp_path / "looms.jpg"
    photo.write_bytes(jpeg(1600, 1000))
    from playwright.sync_api import expect  # where the browser fixture found it

    # --- the editor: an image, a letter, its preview, a test ---------------------------
    context = new_context(browser, DESKTOP)
    try:
        page = context.new_page()
        watch = Watch(page)
        sign_in(page, serve.base_url, EDITOR)
        image_url = upload_image(page, serve.base_url, photo, "Looms")
        assert image_url.startswith(f"{serve.base_url}/media/")
        described = page.locator(".media-item input[name=alt]").first
        described.fill("Weavers at their looms in Cusco")
        page.locator(".media-item button[type=submit]").first.click()
        page.wait_for_url("**/admin/media?done=alt_saved")
        expect(page.locator(".media-item img").first).to_have_attribute(
            "alt", "Weavers at their looms in Cusco"
        )
        kept(page, f"media-{database}")

        start_campaign(
            page,
            serve.base_url,
            kind="solidarity-letter",
            lists=["partners"],
            subject="Standing with the weavers",
        )
        page.fill("#preheader", "A letter to every partner cooperative")
        page.click("#body")
        page.keyboard.type("Dear {{ subscriber.name }}, the looms kept turning.")
        expect(
            preview(page).get_by_text("Dear Lucía Quispe, the looms kept turning.")
        ).to_be_visible()
        page.keyboard.type(" All winter long.")
        expect(
            preview(page).get_by_text("the looms kept turning. All winter long.")
        ).to_be_visible()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.click("details.library summary")
        page.click(f"button[data-insert*='{image_url}']")
        assert f"![Weavers at their looms in Cusco]({image_url})" in page.input_value("#body")
        shown = preview(page).locator("img[alt='Weavers at their looms in Cusco']")
        expect(shown).to_have_count(1)
        assert shown.get_attribute("src", timeout=WAIT) == image_url
        expect(shown).to_have_js_property("complete", True)
        assert shown.evaluate("image => image.naturalWidth") > 0  # it loads from /media/
        kept(page, f"editor-letter-{database}")
        letter = save_draft(page)

        page.fill("#to", EDITOR)
        page.click(f"form[action='/admin/campaigns/{letter}/test'] button")
        page.wait_for_url("**done=test_sent")
        (test,) = received(serve, "[Test] Standing with the weavers", 1)
        assert test.recipients == (EDITOR,)
        assert image_url in html_of(test)
        assert 'alt="Weavers at their looms in Cusco"' in html_of(test)

        # An editor cannot send: no form, no button, and the route refuses them.
        expect(page.locator(f"form[action='/admin/campaigns/{letter}/schedule']")).to_have_count(0)
        expect(page.locator(f"a[href='/admin/campaigns/{letter}/send']")).to_have_count(0)
        kept(page, f"editor-campaign-{database}")
        refused = page.goto(f"{serve.base_url}/admin/campaigns/{letter}/send")
        assert refused is not None and refused.status == 403
        page.goto(f"{serve.base_url}/admin/campaigns/{letter}")
        for action in ("send", "schedule"):
            status = page.evaluate(
                """async ([action, at]) => {
                    const data = new FormData();
                    data.set("csrf_token", document.querySelector("[name=csrf_token]").value);
                    data.set("confirm", "yes");
                    data.set("at", at);
                    const answer = await fetch(action, {method: "POST", body: data});
                    return answer.status;
                }""",
                [f"/admin/campaigns/{letter}/{action}", "2030-03-02T09:30"],
            )
            assert status == 403, action
        assert serve.status(letter) is CampaignStatus.DRAFT

        # The other campaign: hostile content, which must not run in the preview.
        start_campaign(
            page,
            serve.base_url,
            kind="solidarity-letter",
            lists=["partners"],
            subject="News from the looms, now",
        )
        page.check("#format-html")
        page.fill("#body", hostile(image_url))
        frame = preview(page)
        expect(frame.get_by_text("after.")).to_be_visible()
        expect(frame.locator("img[alt='The looms']")).to_have_count(1)
        expect(frame.get_by_text("alert('script')")).to_have_count(0)
        nothing_can_run(frame)
        kept(page, f"editor-hostile-{database}")
        other = save_draft(page)
        watch.clean()
    finally:
        context.close()

    # --- the admin: schedule the letter, send the other now, watch, report -------------
    context = new_context(browser, PHONE)
    try:
        page = context.new_page()
        watch = Watch(page)
        sign_in(page, serve.base_url, ADMIN)
        mark_for_archive(page, serve.base_url, letter)
        # The form takes minutes: the start of this minute, typed a second before it.
        zone = ZoneInfo("Europe/Madrid")
        at = serve.clock().replace(second=0, microsecond=0)
        page.fill("#at", at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"))
        with serve.clock.at(at - timedelta(seconds=1)):
            page.click(f"form[action='/admin/campaigns/{letter}/schedule'] button")
            page.wait_for_url("**done=scheduled")
        expect(page.locator("main")).to_contain_text("Europe/Madrid")
        expect(page.locator(".badge.scheduled")).to_be_visible()
        kept(page, f"admin-scheduled-375-{database}")
        assert serve.status(letter) is CampaignStatus.SCHEDULED

        serve.start_scheduler()  # the time has come: the scheduler releases the letter
        letters = received(serve, "Standing with the weavers", 3)
        assert sorted(r for m in letters for r in m.recipients) == sorted(PARTNERS)
        serve.wait_for_status(letter, CampaignStatus.SENT)
        page.reload()
        expect(page.locator(".badge.sent")).to_be_visible()

        mark_for_archive(page, serve.base_url, other)
        serve.smtp.hold(stage="message", recipient=HELD)
        send_now(page, serve.base_url, other, recipients=3)
        assert page.inner_text("[data-value=total]") == "3"
        page.evaluate("window.notReloaded = true")
        assert serve.smtp.held.wait(WAIT / 1000), "no message reached the SMTP server"
        # Mid-way, heard through the page's event stream without reloading: the held
        # message still queued, one or both of the others sent on the worker's other
        # connection (one handed to the held connection waits behind the held reply).
        page.wait_for_function(
            """() => {
                const n = key => Number(document.querySelector(`[data-value=${key}]`).textContent);
                return n("sent") >= 1 && n("queued") >= 1 && n("sent") + n("queued") === 3;
            }""",
            timeout=WAIT,
        )
        assert page.evaluate("window.notReloaded === true")
        expect(page.locator(".badge.sending")).to_be_visible()
        kept(page, f"admin-progress-midway-375-{database}")
        serve.smtp.release()
        expect(page.locator("[data-value=sent]")).to_have_text("3")
        expect(page.locator(".badge.sent")).to_be_visible()
        expect(page.locator("[data-value=done]")).to_have_text("3")
        expect(page.locator("[data-value=total]")).to_have_text("3")
        kept(page, f"admin-progress-done-375-{database}")

        page.click(f"a[href='/admin/campaigns/{other}/report']")
        page.wait_for_url(f"**/admin/campaigns/{other}/report")
        sent = received(serve, "News from the looms, now", 3)
        assert len(sent) == 3
        domains = Counter(r.split("@")[1] for m in sent for r in m.recipients)
        assert figure(page, "Recipients") == str(sum(domains.values()))
        assert figure(page, "Delivered") == str(len(sent))
        assert figure(page, "Failed") == "0"
        for domain, count in domains.items():
            row = page.locator("table tr", has=page.locator("th", has_text=domain))
            expect(row.locator("td").nth(0)).to_have_text(str(count))
            expect(row.locator("td").nth(1)).to_have_text(str(count))
        page.fill("#address", "kofi")
        page.click("form[role=search] button[type=submit]")
        expect(page.locator("tbody tr", has_text=HELD)).to_have_count(1)
        kept(page, f"admin-report-375-{database}")
        watch.clean()
    finally:
        context.close()

    # --- a visitor: the archive, the feed, and nothing runs ----------------------------
    context = new_context(browser, DESKTOP)
    try:
        page = context.new_page()
        watch = Watch(page)
        read_archive(page, serve, watch, ["Standing with the weavers", "News from the looms, now"])
        kept(page, f"archive-{database}")
        page.click("ol.archive a:text('News from the looms, now')")
        page.wait_for_url("**/archive/*-news-from-the-looms-now")
        expect(page.locator("body")).to_contain_text("after.")
        expect(page.locator("img[alt='The looms']")).to_have_count(1)
        nothing_can_run(page)
        assert "Lucía" not in page.content() and "Kofi" not in page.content()
        kept(page, f"archive-hostile-{database}")
        page.goto(f"{serve.base_url}/archive")
        page.click("ol.archive a:text('Standing with the weavers')")
        page.wait_for_url("**/archive/*-standing-with-the-weavers")
        expect(page.locator("body")).to_contain_text("the looms kept turning. All winter long.")
        picture = page.locator("img[alt='Weavers at their looms in Cusco']")
        expect(picture).to_have_js_property("complete", True)
        assert picture.evaluate("image => image.naturalWidth") > 0
        kept(page, f"archive-letter-{database}")
        watch.clean()
    finally:
        context.close()


INTERVIEW = (
    "### How did the cooperative begin?\n\n"
    "Twelve women, one borrowed field and a rice huller we repaired ourselves.\n\n"
    "### What changed this year?\n\n"
    "We sell to the school canteens now, at a price we set together.\n"
)
NEWS = (
    "## What was agreed\n\n"
    "- a shared warehouse by the port\n"
    "- one price list for every member\n\n"
    "## What comes next\n\n"
    "The first shipment leaves in February.\n"
)
STORIES = {
    "Seed bank opens in the highlands": "https://www.example.org/news/seed-bank",
    "Fishers elect a new board": "https://www.example.org/news/fishers-board",
}


def digest_waiting(run: Cli, serve: Serving) -> None:
    """Two news items of November and the list's digest, whose run leaves November's issue
    as a draft for approval and tells the admins by mail (the command line, as the news
    pages of the admin are not this test's)."""
    run.env.update(
        COOPMAIL_SMTP_URL=serve.smtp.url,
        COOPMAIL_BASE_URL=serve.base_url,
        COOPMAIL_SECRET_KEY=SECRET_KEY,
    )
    for day, (title, link) in enumerate(STORIES.items(), start=5):
        run.ok(
            "news", "add", "--title", title, "--date", f"2026-11-{day:02d}", "--link", link,
            "--summary", f"{title}: what happened, and who took part.",
        )  # fmt: skip
    run.ok("digest", "configure", "--list", "partners", "--cron", "0 9 1 * *", "--draft")
    # In a thread of its own: the mail's event loop cannot run in Playwright's thread.
    failed: list[BaseException] = []

    def build() -> None:
        try:
            run.ok("digest", "run", "--list", "partners", "--month", "2026-11")
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    thread.join(WAIT / 1000)
    assert not thread.is_alive() and not failed, failed


def test_a_letter_an_interview_a_news_article_and_a_digest_go_out_from_the_browser(
    browser: Browser,
    serve: Serving,
    run: Cli,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    database = request.node.callspec.params["database_url"]
    serve.admin.create(ADMIN, Role.ADMIN, name="Adam")
    public_partners(serve, **PARTNERS)
    digest_waiting(run, serve)
    (approval,) = serve.smtp.wait_for(1)
    assert approval.recipients == (ADMIN,)
    assert "November 2026" in subject_of(approval)
    picture = tmp_path / "warehouse.png"
    picture.write_bytes(png(1200, 800))
    from playwright.sync_api import expect  # where the browser fixture found it

    subjects: dict[str, int] = {}
    context = new_context(browser, DESKTOP)
    try:
        page = context.new_page()
        watch = Watch(page)
        sign_in(page, serve.base_url, ADMIN)
        waiting = page.locator(".attention li", has_text="waits for approval")
        expect(waiting).to_contain_text("November 2026")
        digest = serve.latest_campaign()
        expect(waiting).to_contain_text(f"campaign {digest}")
        kept(page, f"kinds-dashboard-{database}")

        start_campaign(
            page, serve.base_url, kind="solidarity-letter", lists=["partners"],
            subject="With the dockworkers of Valparaíso",
        )  # fmt: skip
        page.fill("#meta_place", "Valparaíso")
        page.fill("#body", "We stand with you, and we will say so wherever we are heard.")
        expect(preview(page).get_by_text("Valparaíso,", exact=False)).to_have_count(1)
        kept(page, f"kinds-letter-editor-{database}")
        subjects["With the dockworkers of Valparaíso"] = save_draft(page)

        start_campaign(
            page, serve.base_url, kind="feature", lists=["partners"],
            subject="Rice, schools and a fair price",
        )  # fmt: skip
        page.fill("#meta_intro", "The Kindia women's cooperative sells its rice to schools.")
        page.fill("#meta_interviewee", "Amara Diallo")
        page.fill("#meta_role", "President of the cooperative")
        page.fill("#body", INTERVIEW)
        frame = preview(page)
        expect(frame.locator("h3", has_text="How did the cooperative begin?")).to_have_count(1)
        expect(frame.get_by_text("Amara Diallo")).to_have_count(1)
        kept(page, f"kinds-interview-editor-{database}")
        subjects["Rice, schools and a fair price"] = save_draft(page)

        image_url = upload_image(
            page, serve.base_url, picture, "The new shared warehouse by the port"
        )
        start_campaign(
            page, serve.base_url, kind="news-article", lists=["partners"],
            subject="Three cooperatives share a warehouse",
        )  # fmt: skip
        page.fill("#meta_dateline", "Accra, 20 November 2026")
        page.fill("#meta_lead", "Three fishing cooperatives now store and sell together.")
        page.fill("#meta_image", image_url)
        page.fill("#meta_image_alt", "The new shared warehouse by the port")
        page.fill("#meta_image_caption", "The warehouse on its opening day")
        page.fill("#body", NEWS)
        shown = preview(page).locator("img[alt='The new shared warehouse by the port']")
        expect(shown).to_have_count(1)
        expect(shown).to_have_js_property("complete", True)
        assert shown.evaluate("image => image.naturalWidth") > 0
        kept(page, f"kinds-news-editor-{database}")
        subjects["Three cooperatives share a warehouse"] = save_draft(page)

        # The digest: the draft the run left, found from the dashboard, given an
        # introduction, then sent.
        page.goto(f"{serve.base_url}/admin/")
        page.locator(".attention li", has_text="waits for approval").get_by_role("link").click()
        page.wait_for_url(f"**/admin/campaigns/{digest}")
        digest_subject = page.locator("h1").inner_text()
        assert "November 2026" in digest_subject
        page.click(f"a[href='/admin/campaigns/{digest}/edit']")
        page.fill("#body", "A month of cooperative news, in two stories.")
        frame = preview(page)
        expect(frame.get_by_text("A month of cooperative news")).to_have_count(1)
        for title, link in STORIES.items():  # the news items are kept while editing
            expect(frame.get_by_role("link", name=title)).to_have_attribute("href", link)
        kept(page, f"kinds-digest-editor-{database}")
        page.click("form#studio button[type=submit]:not([formaction])")
        page.wait_for_url(f"**/admin/campaigns/{digest}?done=saved")
        subjects[digest_subject] = digest

        for campaign in subjects.values():
            mark_for_archive(page, serve.base_url, campaign)
            send_now(page, serve.base_url, campaign, recipients=3)
            expect(page.locator(".badge.sent")).to_be_visible()
            expect(page.locator("[data-value=sent]")).to_have_text("3")
        kept(page, f"kinds-progress-{database}")
        watch.clean()
    finally:
        context.close()

    mails = {subject: received(serve, subject, 3) for subject in subjects}
    for subject, sent in mails.items():
        assert sorted(r for m in sent for r in m.recipients) == sorted(PARTNERS), subject
    assert "Amara Diallo" in html_of(mails["Rice, schools and a fair price"][0])
    assert image_url in html_of(mails["Three cooperatives share a warehouse"][0])
    digest_html = html_of(mails[digest_subject][0])
    for title, link in STORIES.items():
        assert title in digest_html and link in digest_html

    context = new_context(browser, PHONE)
    try:
        page = context.new_page()
        watch = Watch(page)
        feed = read_archive(page, serve, watch, list(subjects))
        assert len(feed.entries) == 4
        kept(page, f"kinds-archive-375-{database}")
        expected = {
            "With the dockworkers of Valparaíso": ("letter", ["Valparaíso,", "We stand with"]),
            "Rice, schools and a fair price": ("interview", ["Amara Diallo", "What changed"]),
            "Three cooperatives share a warehouse": ("news", ["Accra, 20 November", "What comes"]),
            digest_subject: ("digest", ["A month of cooperative news", *STORIES]),
        }
        for entry in feed.entries:
            kind, sentences = expected[entry.title]
            page.goto(entry.link)
            for words in sentences:
                expect(page.locator("body")).to_contain_text(words)
            kept(page, f"kinds-archive-{kind}-375-{database}")
        page.goto(
            feed.entries[
                [e.title for e in feed.entries].index("Three cooperatives share a warehouse")
            ].link
        )
        photo = page.locator("img[alt='The new shared warehouse by the port']")
        expect(photo).to_have_js_property("complete", True)
        assert photo.evaluate("image => image.naturalWidth") > 0
        watch.clean()
    finally:
        context.close()
