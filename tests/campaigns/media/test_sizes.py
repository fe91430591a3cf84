"""A Markdown image of the media library gets the width and height Outlook needs, held to
the letter's text width; any other image is left as written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import Content
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media, public_url
from campaigns.media.sizes import LibrarySizes
from campaigns.media.store import DiskStore
from campaigns.models import SourceFormat
from tests.campaigns.media.images import png

BASE = "https://news.example.org"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_library_images_get_width_and_height_held_to_the_text_width(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    store = DiskStore(tmp_path / "media")
    urls, originals = {}, {}
    for name, (width, height) in {"wide.png": (2000, 1000), "small.png": (300, 180)}.items():
        image = prepare_image(png(width, height), name=name, limits=ImageLimits())
        added = add_media(session, store=store, image=image, filename=name, alt_text=name, now=NOW)
        urls[name] = public_url(added.item.email_name, base_url=BASE)
        originals[name] = public_url(added.item.name, base_url=BASE)
    session.commit()
    original = originals["wide.png"]  # 2,000 by 1,000: held to 520 by 260 too
    body = (
        f'![Wide]({urls["wide.png"]})\n\n![Small]({urls["small.png"]} "A title")\n\n'
        f"![Original]({original})\n\n![Elsewhere](https://cdn.example.org/a.png)\n"
    )
    composer = Composer(image_sizes=LibrarySizes(engine=lambda: engine, base_url=BASE))
    html = composer.compose(
        content=Content(name="n.md", format=SourceFormat.MARKDOWN, body=body, body_line=1),
        template="news-article",
        subject="News",
    ).html.fill({})
    assert f'src="{urls["wide.png"]}" alt="Wide" width="520" height="260"' in html
    assert f'src="{urls["small.png"]}" alt="Small" title="A title" width="300" height="180"' in html
    assert f'src="{original}" alt="Original" width="520" height="260"' in html
    assert '<img src="https://cdn.example.org/a.png" alt="Elsewhere" style=' in html


def test_without_sizes_markdown_images_have_none(tmp_path: Path) -> None:
    composer = Composer()
    html = composer.compose(
        content=Content(
            name="n.md", format=SourceFormat.MARKDOWN, body=f"![A]({BASE}/media/x.png)", body_line=1
        ),
        template="news-article",
        subject="News",
    ).html.fill({})
    assert "width=" not in html.split(f'{BASE}/media/x.png"', 1)[1].split(">", 1)[0]


def test_html_content_gets_the_same_sizes_unless_its_author_gave_a_width(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    """Pasted HTML lost any width (the sanitiser dropped the attribute) and got none of
    ours: Outlook for Windows showed a library picture at its natural 2,000 px."""
    store = DiskStore(tmp_path / "media")
    image = prepare_image(png(2000, 1000), name="wide.png", limits=ImageLimits())
    added = add_media(session, store=store, image=image, filename="w.png", alt_text="W", now=NOW)
    session.commit()
    url = public_url(added.item.email_name, base_url=BASE)
    body = (
        f'<p><img src="{url}" alt="Ours"></p>'
        f'<p><img alt="Chosen" width="200" src="{url}"></p>'
        f'<p><img src="{url}" alt="Styled" style="width: 50%"></p>'
        '<p><img src="https://cdn.example.org/a.png" alt="Elsewhere"></p>'
    )
    composer = Composer(image_sizes=LibrarySizes(engine=lambda: engine, base_url=BASE))
    html = composer.compose(
        content=Content(name="n.html", format=SourceFormat.HTML, body=body, body_line=1),
        template="news-article",
        subject="News",
    ).html.fill({})
    assert f'<img width="520" height="260" src="{url}" alt="Ours"' in html
    assert f'<img alt="Chosen" width="200" src="{url}"' in html
    styled = html.split('alt="Styled"', 1)[0].rsplit("<img", 1)[1]
    assert "width=" not in styled
    assert '<img src="https://cdn.example.org/a.png" alt="Elsewhere"' in html
