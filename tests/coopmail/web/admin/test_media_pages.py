"""/admin/media: upload with a description, the library as thumbnails, descriptions
corrected; the JSON list for the editor's picker; every change in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.media.models import MediaItem
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Role
from tests.campaigns.media.images import jpeg
from tests.coopmail.web.admin.conftest import Admin, csrf_of

EDITOR = "editor@unit.example.org"
VIEWER = "viewer@unit.example.org"


def upload(admin: Admin, browser, data: bytes, alt: str, filename: str = "photo.jpg"):  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get("/admin/media").text)
    return browser.post(
        "/admin/media",
        data={"alt": alt, "csrf_token": token},
        files={"image": (filename, data, "image/jpeg")},
        follow_redirects=False,
    )


def test_an_editor_uploads_an_image_and_corrects_its_description(admin: Admin) -> None:
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)
    answer = upload(admin, browser, jpeg(1600, 800), "Members voting")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/media?done=image_added")
    with admin.session() as session:
        item = session.scalars(select(MediaItem)).one()
    page = browser.get("/admin/media")
    assert f'src="/media/{item.email_name}"' in page.text
    assert 'alt="Members voting"' in page.text
    assert "The image is in the library" in browser.get("/admin/media?done=image_added").text
    image = browser.get(f"/media/{item.email_name}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    token = csrf_of(page.text)
    saved = browser.post(
        f"/admin/media/{item.id}/alt",
        data={"alt": "Members voting at the assembly", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    blank = browser.post(f"/admin/media/{item.id}/alt", data={"alt": " ", "csrf_token": token})
    assert blank.status_code == 400
    assert "Describe the image" in blank.text
    picker = browser.get("/admin/media.json").json()["images"]
    assert [(i["id"], i["alt"], i["width"]) for i in picker] == [
        (item.id, "Members voting at the assembly", 1200)
    ]
    assert picker[0]["url"] == f"{admin.base_url}/media/{item.email_name}"
    with admin.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("media.")] == ["media.added", "media.alt_changed"]


def test_bad_uploads_say_what_to_do_and_keep_nothing(admin: Admin) -> None:
    admin.create(EDITOR, Role.EDITOR)
    browser = admin.signed_in(EDITOR)
    fake = upload(admin, browser, b"<svg onload=alert(1)>", "Logo", filename="logo.png")
    assert fake.status_code == 400 and "not a PNG, JPEG, GIF or WebP" in fake.text
    no_alt = upload(admin, browser, jpeg(), "  ")
    assert no_alt.status_code == 400 and "Describe the image" in no_alt.text
    token = csrf_of(browser.get("/admin/media").text)
    no_file = browser.post("/admin/media", data={"alt": "x", "csrf_token": token})
    assert no_file.status_code == 400 and "Choose an image file" in no_file.text
    with admin.session() as session:
        assert session.scalars(select(MediaItem)).all() == []


def test_a_french_editor_reads_the_page_in_french(admin: Admin) -> None:
    admin.create(EDITOR, Role.EDITOR, language="fr")
    page = admin.signed_in(EDITOR).get("/admin/media")
    assert '<html lang="fr"' in page.text
    assert "Téléverser une image" in page.text


def test_a_viewer_may_not_upload(admin: Admin) -> None:
    admin.create(VIEWER, Role.VIEWER)
    browser = admin.signed_in(VIEWER)
    assert browser.get("/admin/media").status_code == 403
    assert browser.get("/admin/media.json").status_code == 403
