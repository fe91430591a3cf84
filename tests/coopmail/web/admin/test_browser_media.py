"""The media library in headless Chromium: an editor uploads an image with its
description, sees the thumbnail (loaded from /media/), corrects the description; on a
desktop and a 375 px phone, accessible; screenshots in test-artifacts/media/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coopmail.staff.roles import Role
from tests.campaigns.media.images import jpeg
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_browser_admin import (
    DESKTOP,
    PHONE,
    ROOT,
    live,  # noqa: F401 - the fixture, used by name
    log_in,
)
from tests.coopmail.web.public.test_browser_public import accessibility_problems

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ARTIFACTS = ROOT / "test-artifacts" / "media"
EDITOR = "nadia@unit.example.org"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_editor_uploads_an_image_and_describes_it(
    browser: Browser,
    live: Admin,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    tag = f"{viewport}-{request.node.callspec.params['database_url']}"
    live.create(EDITOR, Role.EDITOR, name="Nadia")
    photo = tmp_path / "assembly.jpg"
    photo.write_bytes(jpeg(1800, 900))
    context = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        # Every answer but the browser's own favicon request must be found.
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live, EDITOR)
        page.click("nav >> text=Images")
        page.wait_for_url(f"{live.base_url}/admin/media")
        assert accessibility_problems(page) == []
        page.set_input_files("#image", str(photo))
        page.fill("#alt", "Delegates at the general assembly")
        page.click("form[action='/admin/media'] button[type=submit]")
        page.wait_for_url("**/admin/media?done=image_added")
        assert "The image is in the library" in page.inner_text("main")
        thumbnail = page.locator(".media-item img").first
        assert thumbnail.get_attribute("alt") == "Delegates at the general assembly"
        assert (
            page.evaluate(
                "() => { const i = document.querySelector('.media-item img');"
                " return i.complete && i.naturalWidth; }"
            )
            == 1200
        )
        assert accessibility_problems(page) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"media-{tag}.png", full_page=True)
        no_overflow = "() => document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(no_overflow)

        field = page.locator(".media-item input[name=alt]").first
        field.fill("Delegates voting at the general assembly")
        page.locator(".media-item button[type=submit]").first.click()
        page.wait_for_url("**/admin/media?done=alt_saved")
        assert page.locator(".media-item img").first.get_attribute("alt") == (
            "Delegates voting at the general assembly"
        )
        assert errors == []
    finally:
        context.close()
