"""``/media/{name}``: the media library's files, for mail programs and the pages alike.

A name is the hash of the bytes (campaigns.media.store), so an answer never changes and
may be cached for ever; its type comes from the name, which only the library writes, and
``nosniff`` (on every answer) keeps browsers from guessing another one. Mail programs and
webmail fetch these from other sites, so this is the one answer any origin may embed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from campaigns.media.images import CONTENT_TYPES
from campaigns.media.store import is_media_name
from coopmail.web.public.site import PublicSite

IMMUTABLE = "public, max-age=31536000, immutable"


class MediaFiles:
    def __init__(self, site: PublicSite) -> None:
        self.site = site
        self.store = site.context.media()

    def file(self, request: Request) -> Response:
        name = request.path_params.get("name", "")
        data = self.store.get(name) if is_media_name(name) else None
        if data is None:
            return self.site.invalid(request, self.site.language(request))
        extension = name.rpartition(".")[2]
        return Response(
            data,
            media_type=CONTENT_TYPES[extension],
            headers={
                "Cache-Control": IMMUTABLE,
                "Cross-Origin-Resource-Policy": "cross-origin",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )
