"""`coopmail news` from the command line: round trips, imports and one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.campaigns.test_news import ATOM, RSS, SEED
from tests.conftest import Cli


def test_add_list_and_remove_round_trip(run: Cli) -> None:
    created = run.ok(
        "news",
        "add",
        "--title",
        "Solar villages [bold]",
        "--date",
        "2024-03-12",
        "--link",
        "https://coop.example.org/solar",
        "--category",
        "Energy",
        "--summary",
        "Five cooperatives.",
        "--image",
        "https://coop.example.org/solar.jpg",
        "--language",
        "en",
        "--json",
    ).json()
    listed = run.ok("news", "list", "--json").json()
    assert listed == [
        {
            "id": created["id"],
            "title": "Solar villages [bold]",
            "date": "2024-03-12",
            "category": "Energy",
            "summary": "Five cooperatives.",
            "link": "https://coop.example.org/solar",
            "image_url": "https://coop.example.org/solar.jpg",
            "language": "en",
            "source": "staff",
            "created_at": listed[0]["created_at"],
        }
    ]
    assert "Solar villages [bold]" in run.ok("news", "list").stdout  # never read as markup
    assert run.ok("news", "list", "--month", "2024-04", "--json").json() == []
    assert "Removed news item" in run.ok("news", "remove", str(created["id"])).stderr
    assert run.ok("news", "list", "--json").json() == []
    assert "No news items" in run.ok("news", "list").stderr


def test_imports_report_what_they_did_and_repeat_as_no_ops(
    run: Cli, tmp_path: Path, seeds: Path
) -> None:
    shutil.copyfile(seeds / SEED, tmp_path / SEED)
    first = run.ok("news", "import", "--listing", SEED, "--json").json()
    assert first == {"added": 10, "updated": 0, "unchanged": 0, "rejected": 0, "reasons": []}
    again = run.ok("news", "import", "--listing", SEED, "--json").json()
    assert (again["added"], again["unchanged"]) == (0, 10)

    (tmp_path / "rss.xml").write_bytes(RSS)
    (tmp_path / "atom.xml").write_bytes(ATOM)
    rss = run.ok("news", "import", "--feed", "rss.xml", "--json").json()
    assert (rss["added"], rss["rejected"]) == (1, 3)
    assert rss["reasons"][0] == "rss.xml, entry 2: no date (neither published nor updated)"
    table = run.ok("news", "import", "--feed", "atom.xml")
    assert "rejected: atom.xml, entry 3: no title" in table.stderr

    (tmp_path / "news.csv").write_text(
        "title,date,category,summary,link\n"
        "Women's network,2024-04-01,Gender,A new network.,https://coop.example.org/women\n"
        "Bad,01/04/2024,Gender,x,https://coop.example.org/bad\n"
    )
    csv = run.ok("news", "import", "--csv", "news.csv", "--json").json()
    assert (csv["added"], csv["rejected"]) == (1, 1)

    april = run.ok("news", "list", "--month", "2024-04", "--json").json()
    assert [item["title"] for item in april] == [
        "Women's network",
        "Des coopératives de femmes au Sénégal",
    ]
    assert len(run.ok("news", "list", "--limit", "100", "--json").json()) == 14


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("add", "--title", "T", "--date", "2024-02-30", "--link", "https://e.org/x"),
            "date '2024-02-30' is not a date written YYYY-MM-DD",
        ),
        (
            ("add", "--title", "T", "--date", "2024-02-03", "--link", "e.org/x"),
            "link 'e.org/x' is not an http:// or https:// address",
        ),
        (("import", "--csv", "missing.csv"), "missing.csv: no such file"),
        (("import", "--feed", "missing.xml"), "missing.xml: no such file"),
        (("import", "--listing", "missing.txt"), "missing.txt: no such file"),
        (("import", "--feed", "junk.xml"), "junk.xml: not an RSS or Atom feed"),
        (("import", "--feed", "http://127.0.0.1:9/feed.xml"), "cannot fetch http://127.0.0.1:9"),
        (("list", "--month", "April"), "month 'April' is not a month written YYYY-MM"),
        (("remove", "999"), "there is no news item 999"),
        (("edit", "999", "--title", "T"), "there is no news item 999"),
    ],
)
def test_errors_are_one_line_and_non_zero(
    run: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "junk.xml").write_bytes(b"\x00\xff\xfe not a feed \x89PNG")
    result = run("news", *args)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_import_needs_exactly_one_source(run: Cli) -> None:
    assert run("news", "import").exit_code == 2
    assert run("news", "import", "--csv", "a.csv", "--listing", "b.txt").exit_code == 2


def test_an_item_from_a_listing_gets_its_link_by_edit(
    run: Cli, tmp_path: Path, seeds: Path
) -> None:
    shutil.copyfile(seeds / SEED, tmp_path / SEED)
    run.ok("news", "import", "--listing", SEED)
    item = run.ok("news", "list", "--limit", "1", "--json").json()[0]
    assert item["link"] is None
    done = run.ok("news", "edit", str(item["id"]), "--link", "https://coop.example.org/a")
    assert f"Changed news item {item['id']}" in done.stderr
    edited = run.ok("news", "list", "--limit", "1", "--json").json()[0]
    assert edited == {**item, "link": "https://coop.example.org/a"}  # nothing else changed
    run.ok("news", "edit", str(item["id"]), "--link", "", "--category", "Energy")
    taken_away = run.ok("news", "list", "--limit", "1", "--json").json()[0]
    assert (taken_away["link"], taken_away["category"]) == (None, "Energy")


@pytest.mark.parametrize("command", [(), ("add",), ("edit",), ("import",), ("list",), ("remove",)])
def test_every_command_has_help(run: Cli, command: tuple[str, ...]) -> None:
    assert "Usage: " in run.ok("news", *command, "--help").stdout
