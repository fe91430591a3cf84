"""ms per live-preview refresh of a 15 KB letter: compose + inline + answer, p50 and p95.

The studio re-renders unsaved content as staff type: front matter read, Jinja2 in the
sandbox, Markdown, premailer once, the skeleton filled for one reader, through the same
``campaigns.live_preview.preview_content`` the API and the admin call. Beside the whole
refresh, the same letter's parts are timed alone (rendering with inlining switched off,
premailer on the rendered page, filling) so the figures say what dominates.

    .venv/bin/python bench/preview.py [--refreshes 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from unittest import mock

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import campaigns.compose as compose_module
from campaigns.compose import Composer, inline_css
from campaigns.content import parse_content, read_content
from campaigns.live_preview import preview_content
from campaigns.models import SourceFormat
from campaigns.revisions import content_text
from templates import sample_path

GOAL_P95_MS = 150
TARGET_BYTES = 15_000
KEY = b"bench-secret-key-bench-secret-key"


def letter() -> str:
    """The sample letter, its body lengthened until the previewed HTML is about 15 KB."""
    sample = read_content(sample_path("solidarity-letter"))
    paragraphs = sample.body.split("\n\n")
    body = sample.body
    while True:
        text = content_text(header=sample.header, meta=sample.meta, body=body)
        html = refresh(Composer(), text)
        if len(html.encode()) >= TARGET_BYTES:
            return text
        body += "\n\n" + paragraphs[len(body) % len(paragraphs)]


_session = Session(create_engine("sqlite://"))


def refresh(composer: Composer, text: str) -> str:
    return preview_content(
        _session,
        composer=composer,
        text=text,
        base_url="https://news.example.org",
        key=KEY,
    ).html


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    work()  # warm: templates compiled, premailer imported
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=200)
    runs = parser.parse_args().refreshes
    composer = Composer()
    text = letter()
    html = refresh(composer, text)
    content = parse_content(text, name="letter.md", format=SourceFormat.MARKDOWN)
    whole = timed(runs, lambda: refresh(composer, text))
    with mock.patch.object(compose_module, "inline_css", lambda page: page):
        rendered = composer.compose(content=content, template="solidarity-letter", subject="S")
        raw_html = rendered.html.fill({})
        render = timed(runs, lambda: refresh(composer, text))
    inline = timed(runs, lambda: inline_css(raw_html))
    composition = composer.compose(content=content, template="solidarity-letter", subject="S")
    values = dict.fromkeys(composition.fields, "x")
    fill = timed(runs, lambda: composition.html.fill(values) + composition.text.fill(values))
    print(f"letter: {len(text.encode()):,} bytes of source, {len(html.encode()):,} of HTML")
    print(f"{'part':<34}{'p50 ms':>9}{'p95 ms':>9}")
    for name, times in (
        ("whole refresh (preview_content)", whole),
        ("  without premailer", render),
        ("  premailer alone (inline_css)", inline),
        ("  filling the skeletons", fill),
    ):
        print(f"{name:<34}{statistics.median(times):>9.1f}{p95(times):>9.1f}")
    share = statistics.median(inline) / statistics.median(whole)
    print(f"premailer is {share:.0%} of a refresh")
    verdict = "meets" if p95(whole) < GOAL_P95_MS else "misses"
    print(f"p95 {p95(whole):.1f} ms {verdict} the goal of {GOAL_P95_MS} ms")


if __name__ == "__main__":
    main()
