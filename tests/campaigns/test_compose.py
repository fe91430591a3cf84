"""Composing: the sandbox, errors with file and line, inlining once, slots that survive it."""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from campaigns.compose import Composer, inline_css
from campaigns.content import parse_content, read_content
from campaigns.errors import ContentError, UnknownTemplate
from campaigns.htmltext import html_to_text
from campaigns.models import SourceFormat
from campaigns.slots import Escape
from templates import CAMPAIGN_KINDS, SYSTEM_MAILS, sample_path

VALUES = {
    "name": "Amara <Diallo> & Co",
    "email": "amara@coop-sahel.example.org",
    "language": "fr",
    "unsubscribe_url": "https://news.example.org/u/TOKEN",
    "preferences_url": "https://news.example.org/p/TOKEN",
    "view_url": "https://news.example.org/v/TOKEN",
}


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer()


def markdown(body: str, **front: str) -> str:
    header = "".join(f"{key}: {value}\n" for key, value in front.items())
    return f"---\n{header}---\n{body}" if front else body


def compose_body(
    composer: Composer,
    body: str,
    *,
    fmt: SourceFormat = SourceFormat.MARKDOWN,
    template: str = "news-article",
    subject: str = "Hello",
) -> tuple[str, str]:
    content = parse_content(body, name="letter.md", format=fmt)
    composition = composer.compose(content=content, template=template, subject=subject)
    return composition.html.fill(VALUES), composition.text.fill(VALUES)


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_every_sample_composes_and_inlines(
    composer: Composer, kind: str, capfd: pytest.CaptureFixture[str]
) -> None:
    content = read_content(sample_path(kind))
    composition = composer.compose(
        content=content,
        template=kind,
        subject=content.header["subject"],
        preheader=content.header.get("preheader", ""),
    )
    html = composition.html.fill(VALUES)
    text = composition.text.fill(VALUES)
    assert 'style="' in html  # inlined
    assert "@media" in html.split("</head>")[0]  # responsive rules kept in a <style> block
    assert VALUES["unsubscribe_url"] in html and VALUES["unsubscribe_url"] in text
    assert "<" not in text.replace("<https", "")
    assert not re.search(r"cm[0-9a-f]{10}s\d+x", html + text)  # every placeholder filled
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""  # no cssutils noise on the console


@pytest.mark.parametrize("name", SYSTEM_MAILS)
def test_system_mails_compose(composer: Composer, name: str) -> None:
    composition = composer.compose_system(
        name=name,
        subject="Please confirm",
        meta={"lists": ["Partners"], "expires_in": "3 days"},
    )
    html = composition.html.fill(
        {
            **VALUES,
            "confirm_url": "https://n.example.org/c/T",
            "resubscribe_url": "https://n.example.org/r/T",
        }
    )
    assert "<html" in html


def test_personal_values_are_escaped_for_where_they_land(composer: Composer) -> None:
    body = (
        "Dear {{ subscriber.name }},\n\n"
        "[your page](https://partners.example.org/?who={{ subscriber.email }}&x=1)\n\n"
        "[website]({{ subscriber.attributes.website }})\n"
    )
    values = {**VALUES, "attributes.website": "javascript:alert(1)"}
    content = parse_content(body, name="letter.md", format=SourceFormat.MARKDOWN)
    composition = composer.compose(content=content, template="news-article", subject="Hi")
    escapes: dict[str, set[Escape]] = {}
    for slot in composition.html.slots:
        escapes.setdefault(slot.field, set()).add(slot.escape)
    assert escapes["name"] == {Escape.HTML}
    assert escapes["email"] == {Escape.URL_PART, Escape.HTML}  # the link, and the footer
    assert escapes["attributes.website"] == {Escape.URL_WHOLE}
    assert escapes["unsubscribe_url"] == {Escape.URL_WHOLE}
    html = composition.html.fill(values)
    assert "Dear Amara &lt;Diallo&gt; &amp; Co," in html
    assert "?who=amara%40coop-sahel.example.org&amp;x=1" in html
    assert "javascript:" not in html
    text = composition.text.fill(values)
    assert "Dear Amara <Diallo> & Co," in text


def test_the_name_fallback(composer: Composer) -> None:
    html, _text = compose_body(composer, 'Dear {{ subscriber.name | fallback("colleague") }},')
    assert "Dear Amara &lt;Diallo&gt; &amp; Co," in html
    content = parse_content(
        'Dear {{ subscriber.name | fallback("colleague") }},',
        name="x.md",
        format=SourceFormat.MARKDOWN,
    )
    composition = composer.compose(content=content, template="news-article", subject="Hi")
    assert "Dear colleague," in composition.html.fill({**VALUES, "name": ""})


def test_one_composer_renders_in_several_threads_at_once(composer: Composer) -> None:
    """serve composes for the web pages, the scheduler and the worker with one Composer,
    each rendering in its own language: neither the slots nor the words get mixed up."""
    unsubscribe = {"en": "Unsubscribe", "fr": "Se désabonner", "es": "Darse de baja"}

    def letter(index: int) -> tuple[str, str]:
        language = ("en", "fr", "es")[index % 3]
        body = f'Dear {{{{ subscriber.name | fallback("reader{index}") }}}}, ' + "word " * 400
        content = parse_content(body, name="x.md", format=SourceFormat.MARKDOWN)
        composition = composer.compose(
            content=content, template="news-article", subject="Hi", language=language
        )
        return language, composition.html.fill({**VALUES, "name": ""})

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so renderings really interleave
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = list(pool.map(letter, range(24)))
    finally:
        sys.setswitchinterval(interval)
    for index, (language, page) in enumerate(pages):
        assert f"Dear reader{index}," in page
        assert f'<html lang="{language}"' in page
        said = {other for other, word in unsubscribe.items() if f">{word}</a>" in page}
        assert said == {language}, index


def test_testing_a_personal_field_is_an_error_that_says_what_to_do(composer: Composer) -> None:
    with pytest.raises(ContentError, match=r"letter.md, line 3: .*fallback filter"):
        compose_body(composer, "Hello\n\n{% if subscriber.name %}x{% endif %}")


def test_staff_text_cannot_forge_a_placeholder(composer: Composer) -> None:
    html, _ = compose_body(composer, "Look: cm0123456789s0x and cmabcdefabcds1x stay as typed.")
    assert "cm0123456789s0x and cmabcdefabcds1x" in html


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello\n\n{{ ''.__class__.__mro__ }}", r"letter.md, line 3: .*not allowed|unsafe"),
        ("One\nTwo\n{% if %}", r"letter.md, line 3: "),
        ("Hi {{ meta.missing_key }}", r"letter.md, line 1: .*missing_key"),
        ("{{ cycler.__init__.__globals__ }}", r"letter.md, line 1"),
    ],
)
def test_template_errors_name_file_and_line(composer: Composer, body: str, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        compose_body(composer, body)


def test_line_numbers_count_the_front_matter(composer: Composer) -> None:
    body = markdown("Fine\n\n{{ oops( }}", subject="Hi", template="news-article")
    content = parse_content(body, name="letter.md", format=SourceFormat.MARKDOWN)
    with pytest.raises(ContentError, match=r"letter.md, line 7:"):
        composer.compose(content=content, template="news-article", subject="Hi")


def test_content_is_autoescaped_and_markdown_has_no_raw_html(composer: Composer) -> None:
    html, _ = compose_body(composer, "<script>alert(1)</script> and <b>bold</b>")
    assert "<script>alert" not in html and "&lt;b&gt;bold" in html
    fragment, _ = compose_body(
        composer, "<p>A <em>fragment</em> {{ meta|length }}</p>", fmt=SourceFormat.HTML
    )
    assert "<em" in fragment


def test_unknown_template(composer: Composer) -> None:
    with pytest.raises(UnknownTemplate, match="choose one of: digest, feature"):
        compose_body(composer, "x", template="poster")


def test_front_matter_errors_have_lines(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="never closed"):
        parse_content("---\nsubject: x\n", name="a.md", format=SourceFormat.MARKDOWN)
    with pytest.raises(ContentError, match=r"a.md, line 3: front matter"):
        parse_content(
            "---\nsubject: x\nlists: [a\n---\nbody", name="a.md", format=SourceFormat.MARKDOWN
        )
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"line one\nline \xff two\n")
    with pytest.raises(ContentError, match=r"bad.md, line 2: .*not valid UTF-8"):
        read_content(bad)


def test_inlining_keeps_media_queries(capfd: pytest.CaptureFixture[str]) -> None:
    html = (
        "<html><head><style>p{color:red} @media (max-width:600px){p{color:blue}}</style>"
        "</head><body><p>x</p></body></html>"
    )
    inlined = inline_css(html)
    assert 'style="color:red"' in inlined
    assert re.search(r"<style>@media \(max-width: ?600px\)", inlined)
    assert capfd.readouterr().err == ""


def test_a_template_with_a_remote_stylesheet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "remote.html").write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css"></head>'
        "<body>{{ content }} {{ unsubscribe_url }}</body></html>"
    )
    (tmp_path / "email" / "remote.txt").write_text("{{ content_text }}")
    composer = Composer(templates_dir=tmp_path)
    assert "remote" in composer.kinds()
    with pytest.raises(ContentError, match="remote stylesheet"):
        compose_body(composer, "x", template="remote")


def test_plain_text_from_html() -> None:
    text = html_to_text(
        "<h2>Solidarity</h2><p>With <a href='https://e.org/a'>our partners</a>.</p>"
        "<ul><li>one</li><li>two</li></ul><blockquote><p>quoted</p></blockquote>"
        "<img src='x.png' alt='A photo'>"
    )
    assert text == (
        "Solidarity\n----------\n\nWith our partners (https://e.org/a).\n\n- one\n- two\n\n"
        "> quoted\n\n[A photo]\n"
    )
