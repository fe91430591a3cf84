"""Assembles the FastAPI application from its routers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from coopmail import __version__
from coopmail.web.api import OPENAPI_URL, api_router
from coopmail.web.api_limits import ApiBodyLimit
from coopmail.web.context import WebContext
from coopmail.web.public import public_router
from coopmail.web.security import SecurityHeaders
from coopmail.web.site import PublicSite


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

    site = PublicSite(context)  # one Postman for the pages and the API alike
    app.include_router(api_router(context, mails=site.mails))
    app.include_router(public_router(site))
    app.add_middleware(ApiBodyLimit, prefix="/api/")
    app.add_middleware(SecurityHeaders, https=context.settings.base_url.startswith("https://"))
    return app
