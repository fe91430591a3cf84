"""Render the demo's sent letter as docs/images/letter.png, the picture in the README.

Run it after `make demo`, when the templates change:

    .venv/bin/python docs/tools/letter_screenshot.py

It opens the HTML part of the first message in coopmail-demo/outbox/ in headless Chromium
(Debian's, as the browser tests use) at 640 px, the width mail programs give a letter.
"""

from __future__ import annotations

import email
import email.policy
import sys
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUTBOX = ROOT / "coopmail-demo" / "outbox"
PICTURE = ROOT / "docs" / "images" / "letter.png"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 640


def letter_html() -> str:
    messages = sorted(OUTBOX.glob("*.eml"))
    if not messages:
        sys.exit(f"no message in {OUTBOX}: run `make demo` first")
    message = email.message_from_bytes(messages[0].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    if part is None:
        sys.exit(f"{messages[0]} has no HTML part")
    return str(part.get_content())


def main() -> None:
    html = letter_html()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.set_content(html)
        page.screenshot(path=str(PICTURE), full_page=True)
        browser.close()
    sys.stdout.write(f"wrote {PICTURE.relative_to(ROOT)} ({PICTURE.stat().st_size:,} bytes)\n")


if __name__ == "__main__":
    main()
