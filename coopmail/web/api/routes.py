"""The JSON API under /api/v1: bearer-key authentication and the routers it guards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import compile_path

from coopmail.apikeys import ApiKey, authenticate, record_use, use_due
from coopmail.web.api.campaigns import campaigns_router
from coopmail.web.api.drafts import drafts_router
from coopmail.web.api.errors import ApiError, ApiRoute, error_response
from coopmail.web.api.follow import follow_router
from coopmail.web.api.lists import lists_router
from coopmail.web.api.subscribers import subscribers_router, subscriptions_router
from coopmail.web.api.versions import versions_router
from coopmail.web.context import WebContext
from coopmail.web.ratelimit import SlidingWindow
from coopmail.web.subscribe_mail import SubscriptionMails

PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="A key from `coopmail apikeys create NAME`, sent as `Authorization: Bearer KEY`.",
)

Caller = Callable[..., ApiKey]


def _caller(context: WebContext) -> Caller:
    per_key = SlidingWindow(
        engine=context.engine,
        name="api-key",
        limit=context.settings.api_rate_limit,
        seconds=60,
        clock=context.clock,
    )

    def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKey:
        """The API key of the request, or a 401; a 429 past the key's rate limit."""
        if credentials is None:
            raise ApiError(
                401,
                "unauthorized",
                "send an API key as `Authorization: Bearer KEY`; "
                "create one with `coopmail apikeys create NAME`",
            )
        with context.session(write=False) as session:
            key = authenticate(session, token=credentials.credentials)
        verdict = per_key.hit(str(key.id))
        if not verdict.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"more than {per_key.limit} requests a minute with this key; "
                f"wait {verdict.retry_after} seconds",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        now = context.clock()
        if use_due(key, now=now):
            with context.session() as session:
                record_use(session, key_id=key.id, now=now)
        return key

    return caller


def api_router(context: WebContext, *, mails: SubscriptionMails) -> APIRouter:
    """The API, whose subscriptions send their mails through ``mails``, as the form does."""
    caller = _caller(context)
    parts = [
        lists_router(context),
        subscribers_router(context, caller, mails),
        subscriptions_router(context, caller, mails),
        campaigns_router(context, caller),
        drafts_router(context, caller),
        versions_router(context, caller),
        follow_router(context),
    ]
    router = APIRouter()
    for part in parts:
        router.include_router(part, prefix=PREFIX, dependencies=[Depends(caller)])
    known = [
        (compile_path(PREFIX + route.path)[0], route.methods or set())
        for part in parts
        for route in part.routes
        if isinstance(route, APIRoute)
    ]

    def no_such_endpoint(request: Request) -> JSONResponse:
        """Unknown API paths get the JSON error body too; a known path with the wrong
        method gets a 405 naming the right ones."""
        path = request.scope["path"]
        allowed = sorted({m for pattern, methods in known if pattern.match(path) for m in methods})
        if allowed:
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(404, "not_found", f"there is no API endpoint {path}")

    router.add_api_route(
        "/api/{path:path}",
        no_such_endpoint,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
        route_class_override=ApiRoute,
    )
    return router
