"""Assembles the FastAPI application from its routers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from coopmail import __version__
from coopmail.web.context import WebContext


def create_app(*, context: WebContext) -> FastAPI:
    app = FastAPI(title="coopmail", version=__version__, docs_url=None, redoc_url=None)

    @app.get("/health", include_in_schema=False)
    def health_check() -> JSONResponse:
        """For load balancers and monitors: 200 when the database answers, else 503."""
        report = context.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app
