"""``/media/{name}``: the library's files, cacheable for ever, typed, not sniffed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media
from coopmail.db import session_scope
from tests.campaigns.media.images import gif, jpeg
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import make_admin


def test_a_file_is_served_with_its_type_and_for_ever(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    admin = make_admin(engine, database_url, tmp_path, Clock())
    with session_scope(engine) as session:
        for data in (jpeg(1800, 900), gif()):
            item = add_media(
                session,
                store=admin.context.media(),
                image=prepare_image(data, name="x", limits=ImageLimits()),
                filename="x",
                alt_text="A picture",
                now=datetime.now(UTC),
            ).item
    browser = admin.browser()
    answer = browser.get(f"/media/{item.email_name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/gif"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cross-origin-resource-policy"] == "cross-origin"
    assert answer.content == admin.context.media().get(item.email_name)


def test_unknown_and_crafted_names_are_not_found(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    admin = make_admin(engine, database_url, tmp_path, Clock())
    (tmp_path / "coopmail-data").mkdir()
    (tmp_path / "coopmail-data" / "secret.txt").write_text("no")
    browser = admin.browser()
    for path in (
        "/media/" + "0" * 32 + ".png",
        "/media/..%2Fsecret.txt",
        "/media/../secret.txt",
        "/media/secret.txt",
    ):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert answer.content != b"no"
