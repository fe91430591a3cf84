"""Every image a campaign names resolves to a working URL, or the campaign is refused
with the reference, the reason and the line (the Markdown body, HTML, a kind's field)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content import Content
from campaigns.media.errors import FetchFailed, ImageProblem
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media
from campaigns.media.models import MediaItem
from campaigns.media.references import ImageContext, keep_images, resolve_images
from campaigns.media.store import DiskStore
from campaigns.models import SourceFormat
from tests.campaigns.media.images import jpeg, png

BASE = "https://news.example.org"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def content(body: str, *, html: bool = False, **meta: object) -> Content:
    return Content(
        name="letter.md",
        format=SourceFormat.HTML if html else SourceFormat.MARKDOWN,
        body=body,
        body_line=5,
        meta=dict(meta),
    )


def context(tmp_path: Path, **options: object) -> ImageContext:
    return ImageContext(store=DiskStore(tmp_path / "media"), base_url=BASE, **options)  # type: ignore[arg-type]


def problem(session: Session, item: Content, ctx: ImageContext) -> ImageProblem:
    with pytest.raises(ImageProblem) as caught:
        resolve_images(session, content=item, context=ctx)
    return caught.value


def test_a_local_file_goes_into_the_library_and_the_mail_links_its_url(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / "webinar.png").write_bytes(png(2000, 1000))
    ctx = context(tmp_path, folder=tmp_path)
    body = 'Hello\n\n![Our webinar](webinar.png "Webinar")\n'
    resolved = resolve_images(session, content=content(body), context=ctx)
    assert session.scalars(select(MediaItem)).all() == []  # nothing written yet
    keep_images(session, resolved=resolved, now=NOW)
    item = session.scalars(select(MediaItem)).one()
    assert (item.email_width, item.alt_text, item.filename) == (1200, "Our webinar", "webinar.png")
    url = f"{BASE}/media/{item.email_name}"
    assert resolved.content.body == f'Hello\n\n![Our webinar]({url} "Webinar")\n'
    assert ctx.store.get(item.email_name) is not None


def test_absolute_paths_and_file_urls_are_local_files(session: Session, tmp_path: Path) -> None:
    photo = tmp_path / "photos" / "a b.jpg"
    photo.parent.mkdir()
    photo.write_bytes(jpeg())
    ctx = context(tmp_path, folder=tmp_path / "elsewhere")
    where = photo.as_posix().replace(" ", "%20")
    body = f"![One]({where}) ![Two](file://{where})"
    resolved = resolve_images(session, content=content(body), context=ctx)
    assert len(resolved.new_images) == 1  # the same file once
    assert resolved.content.body.count(f"{BASE}/media/") == 2


def test_a_missing_file_is_named_with_its_line(session: Session, tmp_path: Path) -> None:
    found = problem(
        session, content("Hi\n\n![Map](maps/region.png)"), context(tmp_path, folder=tmp_path)
    )
    assert (found.reason, found.reference, found.line) == ("missing", "maps/region.png", 7)
    assert str(tmp_path / "maps" / "region.png") in str(found)
    assert str(found).startswith("letter.md, line 7: image 'maps/region.png'")


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("http://www.example.org/a.png", "insecure"),
        ("ftp://www.example.org/a.png", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:image/png;base64,AAAA", "scheme"),
        (f"{BASE}/media/{'0' * 32}.png", "not_in_library"),
    ],
)
def test_references_that_cannot_work_in_a_mail_are_refused(
    session: Session, tmp_path: Path, reference: str, reason: str
) -> None:
    found = problem(
        session, content(f"![A picture]({reference})"), context(tmp_path, folder=tmp_path)
    )
    assert found.reason == reason


def test_without_a_folder_local_files_are_refused(session: Session, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png())
    found = problem(session, content("![A](a.png)"), context(tmp_path))
    assert found.reason == "no_files"


def test_an_image_needs_alt_text_from_the_content_or_the_library(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(png())
    ctx = context(tmp_path, folder=tmp_path)
    assert problem(session, content("![](a.png)"), ctx).reason == "no_alt"
    image = prepare_image(png(), name="a.png", limits=ImageLimits())
    item = add_media(
        session,
        store=ctx.store,
        image=image,
        filename="a.png",
        alt_text="A [green] square",
        now=NOW,
    ).item
    resolved = resolve_images(session, content=content("![](a.png)"), context=ctx)
    assert resolved.content.body == f"![A \\[green\\] square]({BASE}/media/{item.email_name})"
    assert resolved.new_images == ()
    from_url = resolve_images(
        session, content=content(f"![]({BASE}/media/{item.name})"), context=ctx
    )
    assert from_url.content.body.endswith(f"({BASE}/media/{item.email_name})")


def test_html_img_tags_are_resolved_and_get_their_alt(session: Session, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png())
    ctx = context(tmp_path, folder=tmp_path)
    body = "<p>Hi</p>\n<img src='a.png' alt=\"The &quot;hall&quot;\" width=300>"
    resolved = resolve_images(session, content=content(body, html=True), context=ctx)
    name = resolved.new_images[0].image
    assert resolved.new_images[0].alt == 'The "hall"'
    assert 'src="https://news.example.org/media/' in resolved.content.body
    assert name.width == 40
    missing_alt = problem(session, content('<img src="a.png">', html=True), ctx)
    assert missing_alt.reason == "no_alt"


def test_a_kind_field_image_resolves_with_its_alt_field(session: Session, tmp_path: Path) -> None:
    (tmp_path / "assembly.jpg").write_bytes(jpeg())
    ctx = context(tmp_path, folder=tmp_path)
    item = content("Body", image="assembly.jpg", image_alt="Delegates", dateline="Nairobi")
    resolved = resolve_images(session, content=item, context=ctx)
    assert resolved.content.meta["image"].startswith(f"{BASE}/media/")
    assert resolved.content.meta["image_alt"] == "Delegates"
    assert resolved.content.meta["dateline"] == "Nairobi"
    no_alt = problem(session, content("Body", image="assembly.jpg"), ctx)
    assert (no_alt.reason, no_alt.line) == ("no_alt", None)
    http = problem(session, content("Body", image="http://x.example/a.jpg", image_alt="A"), ctx)
    assert http.reason == "insecure"


def test_remote_images_are_checked_and_copied_when_asked(session: Session, tmp_path: Path) -> None:
    served = {
        "https://cdn.example.org/a.jpg": jpeg(1600, 800),
        "https://cdn.example.org/x.png": b"<html>",
    }

    def fetch(url: str) -> bytes:
        if url not in served:
            raise FetchFailed(url=url, reason="the server answered 404")
        return served[url]

    checked = context(tmp_path, fetch=fetch)
    body = "![A](https://cdn.example.org/a.jpg)"
    assert resolve_images(session, content=content(body), context=checked).content.body == body
    assert (
        problem(session, content("![A](https://cdn.example.org/x.png)"), checked).reason
        == "not_image"
    )
    gone = problem(session, content("![A](https://cdn.example.org/gone.png)"), checked)
    assert gone.reason == "unreachable" and "404" in str(gone)
    copied = resolve_images(
        session, content=content(body), context=context(tmp_path, fetch=fetch, copy_remote=True)
    )
    assert copied.content.body.startswith(f"![A]({BASE}/media/")
    assert copied.new_images[0].filename == "a.jpg"
    unchecked = context(tmp_path)
    assert resolve_images(session, content=content(body), context=unchecked).content.body == body


def test_template_values_are_left_for_rendering(session: Session, tmp_path: Path) -> None:
    body = "![A]({{ meta.picture }})"
    resolved = resolve_images(session, content=content(body), context=context(tmp_path))
    assert resolved.content.body == body
