"""Assembles the FastAPI application from its routers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from coopmail import __version__
from coopmail.unit_texts import attach_unit_texts
from coopmail.web.admin.access import Refusal
from coopmail.web.admin.routes import admin_router
from coopmail.web.api.limits import ApiBodyLimit
from coopmail.web.api.routes import OPENAPI_URL, api_router
from coopmail.web.context import WebContext
from coopmail.web.public.routes import public_router
from coopmail.web.public.site import PublicSite
from coopmail.web.security import SecurityHeaders


def create_app(*, context: WebContext) -> FastAPI:
    app = FastAPI(
        title="coopmail",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )

    @app.get("/health", include_in_schema=False)
    def health_check() -> JSONResponse:
        """For load balancers and monitors: 200 when the database answers, else 503."""
        report = context.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    attach_unit_texts(context.composer, context.engine)  # what owners set, read as it changes
    site = PublicSite(context)  # one Postman for the pages and the API alike
    app.include_router(api_router(context, mails=site.mails))
    admin, _ = admin_router(context)
    app.include_router(admin)  # before the public pages, whose fallback takes any path
    app.add_exception_handler(Refusal, _refused)
    app.include_router(public_router(site))
    app.add_middleware(ApiBodyLimit, prefix="/api/")
    app.add_middleware(SecurityHeaders, https=context.settings.base_url.startswith("https://"))
    return app


def _refused(request: Request, error: Exception) -> Response:
    """The admin's guard said no: its answer (login page, 401, 403) goes out as it is."""
    assert isinstance(error, Refusal)
    return error.response
