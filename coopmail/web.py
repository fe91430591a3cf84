"""The web application served by `coopmail serve` (the public pages and API come later)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from coopmail import __version__


def create_app(*, health: Callable[[], dict[str, Any]]) -> FastAPI:
    app = FastAPI(title="coopmail", version=__version__, docs_url=None, redoc_url=None)

    @app.get("/health")
    def health_check() -> JSONResponse:
        """For load balancers and monitors: 200 when the database answers, else 503."""
        report = health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app
