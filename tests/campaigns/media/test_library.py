"""The media library's use cases, on SQLite and PostgreSQL, with files in a real folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from campaigns.media.errors import AltTextInvalid, MediaNotFound
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import (
    add_media,
    describe,
    find_by_file_name,
    library_name,
    list_media,
    set_alt_text,
)
from campaigns.media.store import DiskStore, is_media_name
from tests.campaigns.media.images import jpeg, png
from tests.conftest import Clock

BASE = "https://news.example.org"


def add(session: Session, store: DiskStore, clock: Clock, data: bytes, alt: str = "A chart"):  # type: ignore[no-untyped-def]
    image = prepare_image(data, name="upload", limits=ImageLimits())
    return add_media(
        session,
        store=store,
        image=image,
        filename="C:\\Users\\me\\chart.png",
        alt_text=alt,
        now=clock(),
    )


def test_an_image_is_stored_under_content_addressed_names(
    session: Session, tmp_path: Path, clock: Clock
) -> None:
    store = DiskStore(tmp_path / "media")
    added = add(session, store, clock, jpeg(2400, 1200))
    item = added.item
    assert added.new
    assert is_media_name(item.name) and is_media_name(item.email_name)
    assert item.name != item.email_name
    assert (tmp_path / "media" / item.name).is_file()
    assert store.get(item.email_name) is not None
    assert item.filename == "chart.png"  # the name only, never the uploader's folders
    shown = describe(item, base_url=BASE)
    assert shown["url"] == f"{BASE}/media/{item.email_name}"
    assert (shown["width"], shown["height"], shown["alt"]) == (1200, 600, "A chart")


def test_the_same_image_twice_is_one_item_and_gets_the_alt_text_it_lacked(
    session: Session, tmp_path: Path, clock: Clock
) -> None:
    store = DiskStore(tmp_path)
    first = add(session, store, clock, png(), alt="")
    again = add(session, store, clock, png(), alt="  Members   voting ")
    assert not again.new and again.item.id == first.item.id
    assert again.item.alt_text == "Members voting"
    assert len(list_media(session)) == 1


def test_alt_text_is_required_when_it_is_set_and_bounded(
    session: Session, tmp_path: Path, clock: Clock
) -> None:
    item = add(session, DiskStore(tmp_path), clock, png(), alt="").item
    for bad in ("   ", "x" * 501, "line\x00break"):
        with pytest.raises(AltTextInvalid):
            set_alt_text(session, media_id=item.id, alt_text=bad, now=clock())
    assert (
        set_alt_text(session, media_id=item.id, alt_text="A map", now=clock()).alt_text == "A map"
    )
    with pytest.raises(MediaNotFound):
        set_alt_text(session, media_id=item.id + 100, alt_text="A map", now=clock())


def test_a_library_url_leads_back_to_its_item(
    session: Session, tmp_path: Path, clock: Clock
) -> None:
    item = add(session, DiskStore(tmp_path), clock, jpeg()).item
    name = library_name(f"{BASE}/media/{item.email_name}", base_url=BASE)
    assert name is not None
    found = find_by_file_name(session, name=name)
    assert found is not None and found.id == item.id
    assert library_name(f"{BASE}/media/../coopmail.toml", base_url=BASE) is None
    assert library_name(f"https://elsewhere.example/media/{item.name}", base_url=BASE) is None


def test_the_store_refuses_names_that_are_not_its_own(tmp_path: Path) -> None:
    store = DiskStore(tmp_path)
    assert store.get("../secret.png") is None
    with pytest.raises(ValueError):
        store.put("../x.png", b"data")
