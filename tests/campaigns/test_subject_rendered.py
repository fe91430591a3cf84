"""The subject shown inside the HTML (<title>, the heading) is the rendered subject with the
person's values, never the template text."""

from __future__ import annotations

import re

import pytest

from campaigns.compose import Composer
from campaigns.content import parse_content, read_content
from campaigns.models import SourceFormat
from templates import CAMPAIGN_KINDS, sample_path


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_the_title_shows_the_rendered_subject(kind: str) -> None:
    composer = Composer()
    sample = read_content(sample_path(kind))
    composition = composer.compose(
        content=sample,
        template=kind,
        subject="Hi {{ subscriber.name | fallback('friend') }}: {{ 'news' | upper }}",
    )
    html = composition.html.fill({"name": "Amara <Diallo>"})
    expected = "Hi Amara &lt;Diallo&gt;: NEWS"
    assert re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip() == expected  # type: ignore[union-attr]
    # No aria-label repeats it: Yahoo and Windows Mail drop the attribute (caniemail), and
    # the title and the heading already name the mail.
    assert "aria-label" not in html
    assert "{{" not in html and "subscriber.name" not in html
    assert composition.subject.fill({"name": "Amara <Diallo>"}) == "Hi Amara <Diallo>: NEWS"
    assert "Hi friend: NEWS" in composition.html.fill({})


def test_a_subject_error_names_the_subject() -> None:
    content = parse_content("Body", name="letter.md", format=SourceFormat.MARKDOWN)
    with pytest.raises(Exception, match="the subject"):
        Composer().compose(content=content, template="news-article", subject="{{ nope }}")
