"""The public pages partners reach from a form or a link in a mail, as one router.

``/subscribe``, ``/confirm/{token}``, ``/u/{token}`` (unsubscribe, RFC 8058 one-click),
``/p/{token}`` (preferences, export, erase) and ``/v/{token}`` (view in browser). A GET
never changes anything (mail scanners prefetch links); every state-changing form carries a
CSRF token except the one-click POST, which by its RFC must work without cookies. Tokens are
HMAC-signed; an invalid token and one for someone no longer known get the same page, and
so does any other address.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from campaigns.transient import describe, is_transient
from coopmail.web.csrf import FIELD
from coopmail.web.forms import read_form, text
from coopmail.web.i18n import FORM_EXPIRED, FORM_ONLY, FORM_UNREADABLE
from coopmail.web.public.archive import ArchivePages
from coopmail.web.public.media import MediaFiles
from coopmail.web.public.pages import PALETTE, STYLESHEET
from coopmail.web.public.preferences import PreferencePages
from coopmail.web.public.site import FormHandler, PublicSite
from coopmail.web.public.subscribe import SubscribePages
from coopmail.web.public.unsubscribe import UnsubscribePages
from coopmail.web.public.view import ViewPage

log = logging.getLogger("coopmail.web")


def public_router(site: PublicSite) -> APIRouter:
    """The router for the public pages, bound to ``site``."""
    subscribing = SubscribePages(site)
    leaving = UnsubscribePages(site)
    preferences = PreferencePages(site)
    archive = ArchivePages(site)
    stylesheet = STYLESHEET.read_bytes()
    palette = PALETTE.read_bytes()

    def home(request: Request) -> Response:
        return RedirectResponse("/subscribe", status_code=303)  # a fixed place, never a parameter

    def css(request: Request) -> Response:
        return Response(
            stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    def palette_css(request: Request) -> Response:
        return Response(
            palette, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    pages: list[tuple[str, Callable[[Request], Response]]] = [
        ("/", home),
        ("/assets/site.css", css),
        ("/assets/palette.css", palette_css),
        ("/subscribe", subscribing.subscribe_page),
        ("/confirm/{token}", subscribing.confirm_page),
        ("/u/{token}", leaving.unsubscribe_page),
        ("/p/{token}", preferences.preferences_page),
        ("/v/{token}", ViewPage(site).view_page),
        ("/media/{name}", MediaFiles(site).file),
        ("/archive", archive.index_page),
        ("/archive/feed.xml", archive.feed),
        ("/archive/{slug}", archive.campaign_page),
        ("/archive/{slug}/{language}", archive.campaign_page),
    ]
    # (path, handler, CSRF checked here, answers padded to at least this many seconds)
    forms: list[tuple[str, FormHandler, bool, float | None]] = [
        ("/subscribe", subscribing.subscribe, True, SUBSCRIBE_ANSWER_SECONDS),
        ("/confirm/{token}", subscribing.confirm, True, None),
        ("/u/{token}", leaving.unsubscribe, False, None),  # checks CSRF but for one-click
        ("/u/{token}/resubscribe", leaving.resubscribe, True, None),
        ("/p/{token}", preferences.save, True, None),
        ("/p/{token}/export", preferences.export, True, None),
        ("/p/{token}/erase", preferences.erase, True, None),
    ]
    router = APIRouter(include_in_schema=False)
    for path, page in pages:
        router.add_route(path, _page_endpoint(site, page), methods=["GET"], include_in_schema=False)
    for path, handler, csrf, floor in forms:
        endpoint = _form_endpoint(site, handler, csrf=csrf, floor=floor)
        router.add_route(path, endpoint, methods=["POST"], include_in_schema=False)
    router.add_route(
        "/{path:path}",
        _elsewhere(site, list(router.routes)),
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    return router


def _elsewhere(site: PublicSite, routes: list[BaseRoute]) -> Callable[[Request], Response]:
    """Any other request gets a page too, in the visitor's language: the invalid-link
    page for an unknown address (a link cut short looks like this), and for a form's
    address opened as a page, a 405 saying to use the link in the mail again."""

    def elsewhere(request: Request) -> Response:
        path = request.url.path
        if request.method in ("GET", "HEAD") and path.endswith("/"):
            # "/subscribe/" is "/subscribe"; only our own pages' paths, so never elsewhere.
            page = {**request.scope, "path": path.rstrip("/")}
            if any(isinstance(r, Route) and r.matches(page)[0] is Match.FULL for r in routes):
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(page["path"] + query, status_code=308)
        language = site.language(request)
        allowed = {
            method
            for route in routes
            if isinstance(route, Route) and route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        }
        if not allowed:
            return site.invalid(request, language)
        return site.message(
            request,
            language,
            FORM_ONLY,
            status=405,
            headers={"Allow": ", ".join(sorted(allowed))},
        )

    return elsewhere


def _form_endpoint(
    site: PublicSite, handler: FormHandler, *, csrf: bool, floor: float | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """Read the form (bounded), check CSRF, then run ``handler`` off the event loop; with
    ``floor``, no answer leaves sooner than that many seconds after the request came."""

    async def endpoint(request: Request) -> Response:
        if floor is None:
            return await answer(request)
        started = _clock()
        try:
            return await answer(request)
        finally:
            await pace(started, floor)

    async def answer(request: Request) -> Response:
        language = site.language(request)
        form = await read_form(request)
        if form is None:
            return site.message(request, language, FORM_UNREADABLE, status=400)
        if csrf and not site.csrf.valid(request, text(form, FIELD)):
            return site.message(request, language, FORM_EXPIRED, status=403)
        try:
            return await run_in_threadpool(handler, request, form, language)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("a form answered 503: the database is busy (%s)", describe(error))
            return site.busy(request, language)

    return endpoint


SUBSCRIBE_ANSWER_SECONDS = 0.3
"""Every answer to the subscribe form takes at least this long. A known address and an
unknown one do different work (an insert, or nothing); timed on loopback that told them
apart 86 % of the time. Padded to a floor no path normally exceeds, they look alike."""


_clock = time.monotonic
_sleep = asyncio.sleep


async def pace(started: float, floor: float) -> None:
    """Wait until ``floor`` seconds after ``started`` (by ``_clock``), if not already past."""
    remaining = floor - (_clock() - started)
    if remaining > 0:
        await _sleep(remaining)


def _page_endpoint(
    site: PublicSite, page: Callable[[Request], Response]
) -> Callable[[Request], Awaitable[Response]]:
    """A GET page off the event loop; a database that does not answer is a 503 page."""

    async def endpoint(request: Request) -> Response:
        try:
            return await run_in_threadpool(page, request)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("a page answered 503: the database is busy (%s)", describe(error))
            return site.busy(request, site.language(request))

    return endpoint
