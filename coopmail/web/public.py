"""The public pages partners reach from a form or a link in a mail, as one router.

``/subscribe``, ``/confirm/{token}``, ``/u/{token}`` (unsubscribe, RFC 8058 one-click),
``/p/{token}`` (preferences, export, erase) and ``/v/{token}`` (view in browser). A GET
never changes anything (mail scanners prefetch links); every state-changing form carries a
CSRF token except the one-click POST, which by its RFC must work without cookies. Tokens are
HMAC-signed; an invalid token and one for someone no longer known get the same page, and
so does any other address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from coopmail.web.csrf import FIELD
from coopmail.web.pages import STYLESHEET
from coopmail.web.preference_pages import PreferencePages
from coopmail.web.site import FormHandler, PublicSite, read_form, text
from coopmail.web.subscribe_pages import SubscribePages
from coopmail.web.unsubscribe_pages import UnsubscribePages
from coopmail.web.view_page import ViewPage


def public_router(site: PublicSite) -> APIRouter:
    """The router for the public pages, bound to ``site``."""
    subscribing = SubscribePages(site)
    leaving = UnsubscribePages(site)
    preferences = PreferencePages(site)
    stylesheet = STYLESHEET.read_bytes()

    def home(request: Request) -> Response:
        return RedirectResponse("/subscribe", status_code=303)  # a fixed place, never a parameter

    def css(request: Request) -> Response:
        return Response(
            stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    pages: list[tuple[str, Callable[[Request], Response]]] = [
        ("/", home),
        ("/assets/site.css", css),
        ("/subscribe", subscribing.subscribe_page),
        ("/confirm/{token}", subscribing.confirm_page),
        ("/u/{token}", leaving.unsubscribe_page),
        ("/p/{token}", preferences.preferences_page),
        ("/v/{token}", ViewPage(site).view_page),
    ]
    forms: list[tuple[str, FormHandler, bool]] = [
        ("/subscribe", subscribing.subscribe, True),
        ("/confirm/{token}", subscribing.confirm, True),
        ("/u/{token}", leaving.unsubscribe, False),  # checks CSRF itself, but for one-click
        ("/u/{token}/resubscribe", leaving.resubscribe, True),
        ("/p/{token}", preferences.save, True),
        ("/p/{token}/export", preferences.export, True),
        ("/p/{token}/erase", preferences.erase, True),
    ]
    router = APIRouter(include_in_schema=False)
    for path, page in pages:
        router.add_route(path, page, methods=["GET"], include_in_schema=False)
    for path, handler, csrf in forms:
        endpoint = _form_endpoint(site, handler, csrf=csrf)
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
            "error_method",
            status=405,
            headers={"Allow": ", ".join(sorted(allowed))},
        )

    return elsewhere


def _form_endpoint(
    site: PublicSite, handler: FormHandler, *, csrf: bool
) -> Callable[[Request], Awaitable[Response]]:
    """Read the form (bounded), check CSRF, then run ``handler`` off the event loop."""

    async def endpoint(request: Request) -> Response:
        language = site.language(request)
        form = await read_form(request)
        if form is None:
            return site.message(request, language, "error_form", status=400)
        if csrf and not site.csrf.valid(request, text(form, FIELD)):
            return site.message(request, language, "error_csrf", status=403)
        return await run_in_threadpool(handler, request, form, language)

    return endpoint
