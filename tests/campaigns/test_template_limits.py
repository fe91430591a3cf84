"""Hostile or careless templates: bounded work, only mail templates loadable, author
errors reported with their line, YAML front matter without alias bombs or silent traps."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.errors import ContentError, FrontMatterError, RenderLimitExceeded, YamlTrap
from campaigns.models import SourceFormat
from campaigns.sandbox import RenderLimits


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer()


def compose(composer: Composer, body: str) -> None:
    content = parse_content(
        f"---\nsubject: Notes\n---\n{body}", name="letter.md", format=SourceFormat.MARKDOWN
    )
    composer.compose(content=content, template="news-article", subject="Notes")


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        # The cases of the report: 30 s and 24 s at 2.7 GB before.
        (
            "{% for i in range(100000) %}{% for j in range(12000) %}x{% endfor %}{% endfor %}",
            "range",
        ),
        ('{{ "x" * 300000000 }}', "size"),
        # Nested loops within the range bound still meet the iteration bound.
        (
            "{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}",
            "iterations",
        ),
        (
            "{% for c in 'x' * 900000 %}{% for d in 'y' * 900000 %}{% endfor %}{% endfor %}",
            "iterations",
        ),
        ("{{ range(10**9) | list }}", "range"),
        ("{{ [1] * 10**9 }}", "size"),
        ("{% set a = 'x' * 600000 %}{{ a ~ a ~ a }}", "size"),
        ("{% set a = 'x' * 600000 %}{{ a + a }}", "size"),
        (
            "{% set ns = namespace(s='x' * 400000) %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "size",
        ),
        ("{{ 'x' | center(10**9) }}", "size"),
        ("{{ 'x'.zfill(10**9) }}", "size"),
        ("{{ 'x'.ljust(10**9) }}", "size"),
        ("{{ '{:>1000000000}'.format(1) }}", "size"),
        ("{{ '%1000000000s' % 1 }}", "size"),
        ("{{ '%*s' | format(10**9, 'x') }}", "size"),
        ("{{ ('y' * 100000) | replace('', 'x' * 1000) }}", "size"),
        ("{{ ('x' * 1000).join(['y'] * 5000) }}", "size"),
        ("{{ (['y'] * 5000) | join('x' * 1000) }}", "size"),
        ("{{ ('a\\nb' * 1000) | indent(10**6) }}", "size"),
        ("{{ 7 ** 100000000 }}", "size"),
        ("{{ lipsum(n=10**6) }}", "size"),
    ],
)
def test_a_template_cannot_take_the_machine(composer: Composer, body: str, limit: str) -> None:
    with pytest.raises(RenderLimitExceeded) as raised:
        compose(composer, body)
    assert raised.value.limit == limit
    assert raised.value.line == 4  # the body's first line, after three of front matter
    assert "too much work for one mail" in str(raised.value)


def test_rendering_stops_at_the_time_limit(tmp_path: Path) -> None:
    """A controllable clock: every reading is a second later than the one before."""
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    slow = Composer(limits=RenderLimits(seconds=30, clock=clock))
    with pytest.raises(RenderLimitExceeded) as raised:
        compose(slow, "{% for i in range(2000) %}{{ i }} {% endfor %}")
    assert raised.value.limit == "time"
    assert "longer than 30 seconds" in str(raised.value)


def test_output_is_bounded() -> None:
    small = Composer(limits=RenderLimits(output_chars=5000))
    with pytest.raises(RenderLimitExceeded) as raised:
        compose(small, "{% for i in range(1000) %}{{ 'abcdefghij' }}{% endfor %}")
    assert raised.value.limit == "output"


def test_ordinary_templates_are_untouched(composer: Composer) -> None:
    """Loops, joins, formats and namespaces of a real letter stay well within bounds."""
    compose(
        composer,
        "{% set ns = namespace(total=0) %}{% for i in range(300) %}{% set ns.total = "
        "ns.total + i %}{{ loop.index }}{% endfor %} {{ ns.total }} {{ [1, 2] | join(', ') }} "
        "{{ 'a b' | replace('a', 'c') }} {{ '%s!' % 'x' }} {{ '{:>5}'.format(1) }} "
        "{{ 'x' * 80 }} {{ 'title' | center(40) }} {{ 2 ** 10 }} {{ lipsum(2) | length > 0 }}",
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ '{0}'.format_map({}) }}", "no such item"),
        ("{{ range(10**9) | list }}", "range()"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "calls itself"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ 'abc'.index('z') }}", "substring not found"),
    ],
)
def test_author_errors_are_content_errors_with_the_line(
    composer: Composer, body: str, words: str
) -> None:
    """Before: IndexError, OverflowError, RecursionError escaped as 500 / exit 70."""
    with pytest.raises(ContentError) as raised:
        compose(composer, f"First paragraph.\n\n{body}")
    assert raised.value.line == 6
    assert words in str(raised.value)


# --- include and extends ----------------------------------------------------------------


@pytest.fixture
def staff_dir(tmp_path: Path) -> Path:
    """A staff templates folder as an operator might lay it out: beside secrets."""
    (tmp_path / "coopmail.toml").write_text('secret_key = "do-not-show-me"\n', encoding="utf-8")
    (tmp_path / "dkim.key").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n", encoding="utf-8")
    email = tmp_path / "email"
    email.mkdir()
    (email / "_note.html").write_text("<p>a partial of ours</p>", encoding="utf-8")
    (email / "notes.yaml").write_text("secret: yes\n", encoding="utf-8")
    os.symlink(tmp_path / "coopmail.toml", email / "_linked.html")
    return tmp_path


@pytest.mark.parametrize(
    "name",
    [
        "coopmail.toml",
        "dkim.key",
        "email/notes.yaml",
        "email/_linked.html",  # a link that leads out of email/
        "web/base.html",  # the public pages' templates are not mail templates
        "samples/about.md",
        "email/../coopmail.toml",
    ],
)
@pytest.mark.parametrize("tag", ["include", "extends", "import"])
def test_only_mail_templates_can_be_included(staff_dir: Path, name: str, tag: str) -> None:
    composer = Composer(templates_dir=staff_dir)
    body = f"{{% {tag} '{name}' %}}" if tag != "import" else f"{{% import '{name}' as x %}}"
    with pytest.raises(ContentError) as raised:
        compose(composer, body)
    assert "does not exist" in str(raised.value)
    assert "do-not-show-me" not in str(raised.value)


def test_mail_partials_still_include(staff_dir: Path) -> None:
    composer = Composer(templates_dir=staff_dir)
    content = parse_content(
        "---\nsubject: Notes\n---\n{% include 'email/_note.html' %}",
        name="letter.html",
        format=SourceFormat.HTML,
    )
    composition = composer.compose(content=content, template="news-article", subject="Notes")
    assert "a partial of ours" in composition.html.fill({})
    assert "news-article" in composer.kinds()


# --- YAML front matter -------------------------------------------------------------------


def front(header: str) -> Callable[[], object]:
    return lambda: parse_content(
        f"---\n{header}\n---\nBody", name="letter.md", format=SourceFormat.MARKDOWN
    )


def test_an_alias_bomb_in_front_matter_is_refused() -> None:
    """300 bytes that expanded to 254 MB of metadata before."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    with pytest.raises(ContentError) as raised:
        front("\n".join(levels))()
    assert "expands to more than" in str(raised.value)


def test_a_few_aliases_are_still_fine() -> None:
    content = parse_content(
        "---\nsubject: Notes\nteam: &team [Ana, Ben]\nauthors: *team\n---\nBody",
        name="letter.md",
        format=SourceFormat.MARKDOWN,
    )
    assert content.meta["authors"] == ["Ana", "Ben"]


@pytest.mark.parametrize(
    ("header", "line", "field", "trap", "symbol"),
    [
        ("subject: Interview: our bakery\ntemplate: feature", 2, "subject", YamlTrap.COLON, ":"),
        ("template: feature\npreheader: Notes: spring", 3, "preheader", YamlTrap.COLON, ":"),
        ("subject: @home with the cooperative", 2, "subject", YamlTrap.LEADING_SYMBOL, "@"),
        ("subject: *new* dates for the fair", 2, "subject", YamlTrap.ALIAS, "*"),
        ("subject: We are #1 in fair trade", 2, "subject", YamlTrap.COMMENT, "#"),
        ("subject: #1 in fair trade", 2, "subject", YamlTrap.COMMENT, "#"),
        ('subject: "Interview: our bakery\ntemplate: feature', 2, "subject", YamlTrap.QUOTES, '"'),
        ("subject: 'It's harvest time'\ntemplate: feature", 2, "subject", YamlTrap.QUOTES, "'"),
    ],
)
def test_yaml_traps_are_named_with_field_and_line(
    header: str, line: int, field: str, trap: YamlTrap, symbol: str
) -> None:
    with pytest.raises(FrontMatterError) as raised:
        front(header)()
    error = raised.value
    assert (error.line, error.field, error.trap, error.symbol) == (line, field, trap, symbol)


def test_a_quoted_hash_is_kept() -> None:
    content = parse_content(
        '---\nsubject: "We are #1"\n---\nBody', name="letter.md", format=SourceFormat.MARKDOWN
    )
    assert content.header["subject"] == "We are #1"
