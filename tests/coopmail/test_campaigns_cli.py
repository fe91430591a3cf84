"""`coopmail campaigns` and `coopmail templates` from the command line."""

from __future__ import annotations

import email
import email.policy
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from templates import sample_path
from tests.conftest import Cli

KEY = "a-test-secret-key-of-some-length"


@pytest.fixture
def staff(run: Cli, tmp_path: Path) -> Cli:
    run.env["COOPMAIL_SECRET_KEY"] = KEY
    run.env["COOPMAIL_BASE_URL"] = "https://news.example.org"
    run.ok("lists", "create", "partners", "--title", "Partners of the Unit")
    run.ok(
        "subscribers",
        "add",
        "amara@coop-sahel.example.org",
        "--list",
        "partners",
        "--name",
        "Amara Diallo",
        "--language",
        "fr",
    )
    shutil.copyfile(sample_path("solidarity-letter"), tmp_path / "letter.md")
    return run


def test_create_preview_and_list(staff: Cli, session: Session, tmp_path: Path) -> None:
    created = staff.ok("campaigns", "create", "--content", "letter.md", "--json").json()
    campaign = session.get(Campaign, created["id"])
    assert campaign is not None
    assert campaign.status.value == "draft" and campaign.template == "solidarity-letter"
    assert [ml.name for ml in campaign.lists] == ["partners"]

    result = staff.ok("campaigns", "preview", str(created["id"]), "--output", "out")
    html = (tmp_path / "out" / f"campaign-{created['id']}.html").read_text()
    text = (tmp_path / "out" / f"campaign-{created['id']}.txt").read_text()
    raw = (tmp_path / "out" / f"campaign-{created['id']}.eml").read_bytes()
    assert "amara@coop-sahel.example.org" in result.stderr
    assert "https://news.example.org/u/" in html and "https://news.example.org/u/" in text
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "amara@coop-sahel.example.org"
    assert message["List-Unsubscribe"].startswith("<https://news.example.org/u/")
    assert "<mailto:coop@example.org?subject=unsubscribe%20" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Partners of the Unit <partners.news.example.org>"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))

    listed = staff.ok("campaigns", "list", "--json").json()
    assert listed[0]["id"] == created["id"] and listed[0]["lists"] == ["partners"]
    shown = staff.ok("campaigns", "show", str(created["id"]), "--json").json()
    assert shown["from"] == "Cooperatives Unit <coop@example.org>"


def test_flags_override_the_front_matter(staff: Cli, tmp_path: Path) -> None:
    staff.ok("lists", "create", "digest")
    created = staff.ok(
        "campaigns",
        "create",
        "--content",
        "letter.md",
        "--template",
        "news-article",
        "--list",
        "digest",
        "--subject",
        "Override",
        "--json",
    ).json()
    shown = staff.ok("campaigns", "show", str(created["id"]), "--json").json()
    assert (shown["template"], shown["lists"], shown["subject"]) == (
        "news-article",
        ["digest"],
        "Override",
    )


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("---\nsubject: Hi\nlists: [partners]\n---\nBody", (), "no template given"),
        ("---\ntemplate: feature\nlists: [partners]\n---\nBody", (), "no subject given"),
        ("---\nsubject: Hi\ntemplate: feature\n---\nBody", (), "no lists given"),
        (
            "---\nsubject: Hi\ntemplate: poster\nlists: [partners]\n---\nB",
            (),
            "no template 'poster'",
        ),
        ("---\nsubject: Hi\ntemplate: feature\nlists: [nope]\n---\nB", (), "no list named 'nope'"),
        (
            "---\nsubject: Hi\ntemplate: feature\nlists: [partners]\n---\n{{ x.y }}",
            (),
            "letter.md, line 6: ",
        ),
        (
            "Body",
            ("--template", "feature", "--list", "partners", "--subject", "Hi\r\nBcc: x@y.z"),
            "subject",
        ),
        (
            "---\nsubject: Hi\ntemplate: feature\nlists: [partners]\nfrom: nobody\n---\nB",
            (),
            "from:",
        ),
    ],
)
def test_bad_content_is_one_line_and_stores_nothing(
    staff: Cli,
    session: Session,
    tmp_path: Path,
    content: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    (tmp_path / "letter.md").write_text(content)
    result = staff("campaigns", "create", "--content", "letter.md", *args)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_preview_refuses_without_a_secret_key(staff: Cli) -> None:
    created = staff.ok("campaigns", "create", "--content", "letter.md", "--json").json()
    del staff.env["COOPMAIL_SECRET_KEY"]
    result = staff("campaigns", "preview", str(created["id"]), "--output", "out")
    assert result.exit_code == 3
    assert "coopmail config new-secret-key" in result.stderr
    missing = staff("campaigns", "preview", "999", "--output", "out")
    assert missing.exit_code in (1, 3)


def test_templates_list_and_check(staff: Cli, tmp_path: Path) -> None:
    kinds = staff.ok("templates", "list", "--json").json()
    assert kinds == ["digest", "feature", "news-article", "solidarity-letter"]
    good = tmp_path / "good.html"
    good.write_text("<p>{{ subject }} {{ meta.place }} {{ subscriber.name | fallback('you') }}</p>")
    assert "OK" in staff.ok("templates", "check", str(good)).stderr
    for body, expected in [
        ("<p>\n{% for x in %}\n</p>", "bad.html, line 2:"),
        ("<p>\n\n{{ subject.__class__.__base__.__subclasses__() }}</p>", "bad.html, line 3:"),
        ("<p>{% if subscriber.email %}x{% endif %}</p>", "fallback filter"),
    ]:
        bad = tmp_path / "bad.html"
        bad.write_text(body)
        result = staff("templates", "check", str(bad))
        assert result.exit_code == 1
        assert expected in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "subject: Interview: our bakery",
            "letter.md, line 2: the subject has a colon followed by a space, which YAML reads "
            'as a new key; put the subject in quotes: subject: "Interview: our bakery"',
        ),
        (
            "subject: @home with the cooperative",
            "letter.md, line 2: the subject starts with @, which YAML keeps for its own markup; "
            'put the subject in quotes: subject: "@home with the cooperative"',
        ),
        (
            "subject: *new* dates for the fair",
            "letter.md, line 2: the subject starts with *, which YAML reads as a reference to "
            'an &anchor; put the subject in quotes: subject: "*new* dates for the fair"',
        ),
        (
            "subject: We are #1 in fair trade",
            "letter.md, line 2: YAML reads # and what follows it as a comment, so it would be "
            "left out of the subject; put the subject in quotes: "
            'subject: "We are #1 in fair trade"',
        ),
        (
            "subject: 'It's harvest time'",
            "letter.md, line 2: the quotes in the subject do not match; put the subject in "
            'quotes: subject: "It\'s harvest time"',
        ),
        (
            'subject: "Say "yes" to the fair"',
            "letter.md, line 2: the quotes in the subject do not match; put the subject in "
            'quotes: subject: "Say \\"yes\\" to the fair"',
        ),
    ],
)
def test_a_yaml_trap_says_what_to_type(
    staff: Cli, tmp_path: Path, header: str, message: str
) -> None:
    """Before: `mapping values are not allowed here`, and nothing about what to do."""
    (tmp_path / "letter.md").write_text(
        f"---\n{header}\ntemplate: news-article\nlists: [partners]\n---\nBody\n"
    )
    result = staff("campaigns", "create", "--content", "letter.md")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"


@pytest.mark.parametrize(
    "body",
    [
        '{{ "x" * 300000000 }}',
        "{% for i in range(100000) %}{% for j in range(12000) %}{% endfor %}{% endfor %}",
        "{{ range(10**9) | list }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{{ '{0}'.format_map({}) }}",
    ],
)
def test_a_hostile_or_broken_template_exits_1_with_the_line(
    staff: Cli, tmp_path: Path, session: Session, body: str
) -> None:
    """Before: exit 70 (an internal error), or half a minute and gigabytes of work."""
    (tmp_path / "letter.md").write_text(
        f"---\nsubject: Notes\ntemplate: news-article\nlists: [partners]\n---\n{body}\n"
    )
    result = staff("campaigns", "create", "--content", "letter.md")
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("Error: letter.md, line 6: ")
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
