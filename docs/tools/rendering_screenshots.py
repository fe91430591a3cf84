"""Screenshots of every mail as sent, at 800 px, 375 px and in dark mode, into a folder.

Taken before and after a change to templates/email/ to compare the look side by side
(docs/rendering.md says how they were used):

    PYTHONPATH=. .venv/bin/python docs/tools/rendering_screenshots.py test-artifacts/rendering/after

Each mail is the HTML part of the message coopmail sends (tests/templates/sent.py), shown in
headless Chromium (Debian's, as the browser tests use), remote images refused as a
mail program that blocks them would.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.templates.sent import NAMES, html_part, message

CHROMIUM = "/usr/bin/chromium"
VIEWS = {"800": (800, "light"), "375": (375, "light"), "dark-375": (375, "dark")}


def shoot(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for name in NAMES:
            html = html_part(message(name))
            for view, (width, scheme) in VIEWS.items():
                page = browser.new_page(
                    viewport={"width": width, "height": 900},
                    color_scheme=scheme,  # type: ignore[arg-type]
                )
                page.route("**/*", lambda route: route.abort())  # no remote images
                page.set_content(html)
                path = folder / f"{name.replace('/', '-')}-{view}.png"
                page.screenshot(path=str(path), full_page=True)
                page.close()
                written.append(path)
        browser.close()
    return written


def main() -> None:
    folder = Path(sys.argv[1])
    written = shoot(folder)
    sys.stdout.write(f"wrote {len(written)} screenshots into {folder}\n")


if __name__ == "__main__":
    main()
