"""The media library in the admin: upload an image with its description, see every image
as a thumbnail, correct a description; and the list as JSON for the editor's picker.

The same use cases as `coopmail media` (campaigns.media.library); decoding and
re-encoding run before the write transaction opens."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from campaigns.media.errors import AltTextInvalid, ImageTooLarge, MediaNotFound, NotAnImage
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import (
    add_media,
    clean_alt_text,
    describe,
    list_media,
    set_alt_text,
)
from campaigns.media.models import ALT_MAX
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from coopmail.web.i18n import N_

NO_FILE = N_("Choose an image file to upload.")
NOT_AN_IMAGE = N_(
    "This file is not a PNG, JPEG, GIF or WebP image. Save it in one of these formats and "
    "upload it again."
)
TOO_MANY_BYTES = N_(
    "This image is larger than %(megabytes)s MB. Save a smaller version (a photo for mail "
    "needs no more than 1,200 pixels across) and upload that."
)
TOO_MANY_PIXELS = N_(
    "This image has more than %(megapixels)s million pixels. Save a smaller version and "
    "upload that."
)
ALT_NEEDED = N_(
    "Describe the image in a few words (at most %(maximum)s characters): it is what blind "
    "readers hear and what shows when images are off."
)
PAGE_SIZE = 200


class MediaPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site
        self.limits = ImageLimits()
        self.store = site.context.media()

    def media_page(self, visit: Visit) -> Response:
        return self._page(visit)

    def picker(self, visit: Visit) -> Response:
        """Every image with its URL, size and description, newest first, for the editor."""
        base_url = self.site.settings.base_url
        with self.site.context.session(write=False) as session:
            items = [describe(item, base_url=base_url) for item in list_media(session)]
        return JSONResponse({"images": items}, headers={"Cache-Control": "no-store"})

    def upload(self, visit: Visit) -> Response:
        file = visit.form.get("image")
        alt = visit.field("alt", ALT_MAX * 2)
        if not isinstance(file, UploadFile) or not file.filename:
            return self._page(visit, status=400, error=self.site.pages.say(visit, NO_FILE), alt=alt)
        try:
            alt = clean_alt_text(alt, required=True)
            data = file.file.read(self.limits.max_bytes + 1)
            image = prepare_image(data, name=file.filename, limits=self.limits)
        except AltTextInvalid as error:
            message = self.site.pages.say(visit, ALT_NEEDED, maximum=error.maximum)
            return self._page(visit, status=400, error=message, alt=alt)
        except NotAnImage:
            message = self.site.pages.say(visit, NOT_AN_IMAGE)
            return self._page(visit, status=400, error=message, alt=alt)
        except ImageTooLarge as error:
            message = (
                self.site.pages.say(visit, TOO_MANY_BYTES, megabytes=error.maximum // 2**20)
                if error.limit == "bytes"
                else self.site.pages.say(
                    visit, TOO_MANY_PIXELS, megapixels=error.maximum // 1_000_000
                )
            )
            return self._page(visit, status=413, error=message, alt=alt)
        with self.site.context.session() as session:
            added = add_media(
                session,
                store=self.store,
                image=image,
                filename=file.filename,
                alt_text=alt,
                now=visit.now,
            )
            if added.new:
                self.site.record(
                    session,
                    visit,
                    "media.added",
                    target_type="media",
                    target_id=added.item.id,
                    details={"name": added.item.name, "bytes": added.item.size},
                )
        done = "image_added" if added.new else "image_known"
        return self.site.redirect("/admin/media", done=done)

    def set_alt(self, visit: Visit) -> Response:
        media_id = visit.path_id("media_id")
        if media_id is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        alt = visit.field("alt", ALT_MAX * 2)
        try:
            with self.site.context.session() as session:
                item = set_alt_text(session, media_id=media_id, alt_text=alt, now=visit.now)
                self.site.record(
                    session,
                    visit,
                    "media.alt_changed",
                    target_type="media",
                    target_id=item.id,
                    details={"alt": item.alt_text},
                )
        except MediaNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except AltTextInvalid as error:
            message = self.site.pages.say(visit, ALT_NEEDED, maximum=error.maximum)
            return self._page(visit, status=400, alt_error=(media_id, message))
        return self.site.redirect("/admin/media", done="alt_saved")

    def _page(
        self,
        visit: Visit,
        *,
        status: int = 200,
        error: str | None = None,
        alt: str = "",
        alt_error: tuple[int, str] | None = None,
    ) -> Response:
        with self.site.context.session(write=False) as session:
            images = [
                {
                    "id": item.id,
                    "thumbnail": f"/media/{item.email_name}",
                    "url": describe(item, base_url=self.site.settings.base_url)["url"],
                    "alt": item.alt_text,
                    "width": item.email_width,
                    "height": item.email_height,
                    "filename": item.filename,
                    "created_at": item.created_at,
                }
                for item in list_media(session, limit=PAGE_SIZE)
            ]
        return self.site.render(
            visit,
            "media.html",
            status=status,
            images=images,
            error=error,
            alt=alt,
            alt_error=alt_error,
            alt_max=ALT_MAX,
            megabytes=self.limits.max_bytes // 2**20,
        )
