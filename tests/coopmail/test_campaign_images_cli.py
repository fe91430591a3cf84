"""`coopmail campaigns create` with images, tried as a new user would: a file beside the
content, an absolute path, a file:// URL, a kind's image field; http:// and a missing file
refused in one line that names them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.media.models import MediaItem
from campaigns.models import Campaign
from tests.campaigns.media.images import jpeg, png
from tests.conftest import Cli

BASE = "https://news.example.org"


@pytest.fixture
def staff(run: Cli) -> Cli:
    run.env["COOPMAIL_SECRET_KEY"] = "a-test-secret-key-of-some-length"
    run.env["COOPMAIL_BASE_URL"] = BASE
    run.ok("lists", "create", "partners", "--title", "Partners")
    return run


def letter(folder: Path, body: str, **fields: str) -> Path:
    header = "".join(f"{key}: {value}\n" for key, value in fields.items())
    path = folder / "letters" / "news.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"---\nsubject: News\ntemplate: news-article\nlists: [partners]\n{header}---\n{body}\n"
    )
    return path


def test_local_images_become_library_urls(staff: Cli, tmp_path: Path, session: Session) -> None:
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "webinar.png").write_bytes(png(1800, 900))
    photo = tmp_path / "assembly.jpg"
    photo.write_bytes(jpeg())
    path = letter(
        tmp_path,
        f"Join us.\n\n![The webinar's poster](webinar.png)\n\n![A hall](file://{photo})",
        image=str(photo),
        image_alt="Delegates in the hall",
    )
    created = staff.ok("campaigns", "create", "--content", str(path), "--json").json()
    campaign = session.get(Campaign, created["id"])
    assert campaign is not None
    items = {item.filename: item for item in session.scalars(select(MediaItem))}
    assert set(items) == {"webinar.png", "assembly.jpg"}
    assert (
        f"![The webinar's poster]({BASE}/media/{items['webinar.png'].email_name})" in campaign.body
    )
    assert campaign.meta["image"] == f"{BASE}/media/{items['assembly.jpg'].email_name}"
    assert "webinar.png)" not in campaign.body and "file://" not in campaign.body
    preview = staff.ok("campaigns", "preview", str(created["id"]), "--output", "out")
    assert preview.exit_code == 0
    html = next((tmp_path / "out").glob("*.html")).read_text()
    assert f'src="{BASE}/media/{items["webinar.png"].email_name}"' in html
    assert f'src="{BASE}/media/{items["assembly.jpg"].email_name}"' in html
    # Outlook reads the width attribute only: the library's 1,200 px copy, held to 520.
    poster_url = f"{BASE}/media/{items['webinar.png'].email_name}"
    (poster,) = re.findall(rf'<img src="{poster_url}"[^>]*>', html)
    assert ' width="520" height="260"' in poster
    served = staff.ok("media", "list", "--json").json()
    assert len(served) == 2


@pytest.mark.parametrize(
    ("body", "fields", "words"),
    [
        ("![Map](maps/region.png)", {}, "image 'maps/region.png': no such file"),
        (
            "Hi",
            {"image": "webinar.png", "image_alt": "Poster"},
            "image 'webinar.png': no such file",
        ),
        ("![Map](http://www.example.org/map.png)", {}, "an http:// address is not encrypted"),
        ("![](poster.png)", {}, "has no alt text"),
    ],
)
def test_images_that_would_break_are_refused_in_one_line(
    staff: Cli, tmp_path: Path, session: Session, body: str, fields: dict[str, str], words: str
) -> None:
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "poster.png").write_bytes(png())
    result = staff("campaigns", "create", "--content", str(letter(tmp_path, body, **fields)))
    assert result.exit_code == 1
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    assert "news.md" in result.stderr
    assert session.scalars(select(Campaign)).all() == []
    assert session.scalars(select(MediaItem)).all() == []


def test_offline_a_remote_image_can_be_left_unchecked(staff: Cli, tmp_path: Path) -> None:
    path = letter(tmp_path, "![A](https://cdn.example.org/a.jpg)")
    # This machine has no network: the check cannot fetch it, and says so.
    refused = staff("campaigns", "create", "--content", str(path))
    assert refused.exit_code == 1
    assert "could not be fetched" in refused.stderr and "--no-image-check" in refused.stderr
    staff.ok("campaigns", "create", "--content", str(path), "--no-image-check")


def test_a_campaign_goes_on_the_archive_and_off(
    staff: Cli, tmp_path: Path, session: Session
) -> None:
    path = letter(tmp_path, "Hello")
    created = staff.ok("campaigns", "create", "--content", str(path), "--json").json()
    on = staff.ok("campaigns", "archive", str(created["id"]))
    assert "once it is sent to a public list" in on.stderr
    campaign = session.get(Campaign, created["id"])
    assert campaign is not None and campaign.archived
    off = staff.ok("campaigns", "archive", str(created["id"]), "--off", "--json").json()
    assert off == {"id": created["id"], "archived": False, "url": None}
    missing = staff("campaigns", "archive", "999")
    assert missing.exit_code == 1 and "there is no campaign 999" in missing.stderr


def test_a_translation_saved_alone_has_its_images_resolved_too(
    staff: Cli, tmp_path: Path, session: Session
) -> None:
    """`campaigns versions add|edit` stored a translation's images as written: a picture
    beside the file stayed `<img src="affiche.png">`, broken for every French partner."""
    path = str(letter(tmp_path, "Hello."))
    campaign_id = str(staff.ok("campaigns", "create", "--content", path, "--json").json()["id"])
    (tmp_path / "letters" / "affiche.png").write_bytes(png(800, 400))
    french = tmp_path / "letters" / "nouvelles.md"
    french.write_text(
        "---\nsubject: Nouvelles\nlanguage: fr\n---\nBonjour.\n\n![L'affiche](affiche.png)\n"
    )
    staff.ok("campaigns", "versions", "add", campaign_id, "fr", "--content", str(french))
    item = session.scalars(select(MediaItem).where(MediaItem.filename == "affiche.png")).one()
    source = staff.ok("campaigns", "versions", "source", campaign_id, "fr").stdout
    assert f"![L'affiche]({BASE}/media/{item.email_name})" in source

    french.write_text(
        "---\nsubject: Nouvelles\nlanguage: fr\n---\nBonjour.\n\n"
        "![Une salle](http://www.example.org/salle.png)\n"
    )
    refused = staff("campaigns", "versions", "edit", campaign_id, "--content", str(french))
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert "nouvelles.md, line 7" in refused.stderr and "http://" in refused.stderr
    assert "L'affiche" in staff.ok("campaigns", "versions", "source", campaign_id, "fr").stdout
