"""`coopmail media add` and `coopmail media list`."""

from __future__ import annotations

from pathlib import Path

from tests.campaigns.media.images import jpeg
from tests.conftest import Cli


def test_add_then_list(run: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "assembly.jpg"
    photo.write_bytes(jpeg(1600, 800))
    added = run.ok("media", "add", str(photo), "--alt", "Delegates at the assembly", "--json")
    data = added.json()
    assert data["new"] and data["width"] == 1200
    assert data["url"].startswith("http://localhost:8000/media/")
    name = data["url"].rsplit("/", 1)[1]
    assert (tmp_path / "coopmail-data" / "media" / name).is_file()
    listed = run.ok("media", "list", "--json").json()
    assert [row["id"] for row in listed] == [data["id"]]
    assert listed[0]["alt"] == "Delegates at the assembly"
    plain = run.ok("media", "list")
    assert "Delegates" in plain.stdout


def test_a_file_that_is_not_an_image_is_one_line_and_nothing_is_kept(
    run: Cli, tmp_path: Path
) -> None:
    fake = tmp_path / "photo.png"
    fake.write_text("<svg><script>alert(1)</script></svg>")
    result = run("media", "add", str(fake), "--alt", "Logo")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "photo.png is not an image" in result.stderr
    assert run.ok("media", "list", "--json").json() == []


def test_alt_text_is_required(run: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg())
    assert run("media", "add", str(photo)).exit_code == 2
    blank = run("media", "add", str(photo), "--alt", "  ")
    assert blank.exit_code == 1
    assert "alt text" in blank.stderr
