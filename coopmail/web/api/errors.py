"""One error shape for the whole API, and the mapping from the packages' errors to it.

The mapping lives in a route class rather than in app-wide exception handlers, so the
public pages keep their own (HTML) error handling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from campaigns.errors import (
    CampaignNotFound,
    CampaignsError,
    CampaignStateError,
    ContentError,
    DefaultVersion,
    DraftOnly,
    FrontMatterError,
    InvalidSendTime,
    RevisionNotFound,
    RevisionsOfTwoVersions,
    TooManyVariants,
    UnknownTemplate,
    VersionExists,
    VersionNotFound,
    ZonesPassed,
)
from coopmail.apikeys import InvalidApiKey
from coopmail.content_hints import describe_front_matter
from coopmail.web.api.models import ErrorBody
from coopmail.web.logs import client_hung_up
from subscribers.errors import (
    AddressSuppressed,
    InvalidAddress,
    InvalidField,
    ListExists,
    ListNotFound,
    SubscriberNotFound,
    SubscribersError,
)

log = logging.getLogger("coopmail.api")

# Most specific first: the first class an error is an instance of decides.
_STATUS: list[tuple[type[Exception], int, str]] = [
    (InvalidApiKey, 401, "unauthorized"),
    (ListNotFound, 404, "not_found"),
    (SubscriberNotFound, 404, "not_found"),
    (CampaignNotFound, 404, "not_found"),
    (RevisionNotFound, 404, "not_found"),
    (RevisionsOfTwoVersions, 409, "other_version"),
    (VersionNotFound, 404, "not_found"),
    (DraftOnly, 409, "not_a_draft"),
    (VersionExists, 409, "version_exists"),
    (DefaultVersion, 409, "default_version"),
    (ListExists, 409, "conflict"),
    (AddressSuppressed, 409, "suppressed"),
    (ZonesPassed, 409, "zone_hour_passed"),
    (CampaignStateError, 409, "conflict"),
    (InvalidAddress, 422, "invalid_address"),
    (InvalidField, 422, "invalid_field"),
    (ContentError, 422, "invalid_content"),
    (InvalidSendTime, 422, "invalid_time"),
    (UnknownTemplate, 422, "unknown_template"),
    (TooManyVariants, 422, "too_many_variants"),
    (SubscribersError, 400, "bad_request"),
    (CampaignsError, 400, "bad_request"),
]


class ApiError(Exception):
    """Raised by the API's own code for outcomes the packages do not name."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(errors: Sequence[Any]) -> tuple[int, str, str]:
    if any(error.get("type") == "json_invalid" for error in errors):
        return 400, "invalid_json", "the request body is not valid JSON"
    parts = []
    for error in errors[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'is invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "invalid_request", "; ".join(parts) + more


def to_response(error: Exception) -> JSONResponse | None:
    """The response for an error the API expects, or None for a bug."""
    if isinstance(error, ApiError):
        return error_response(error.status, error.code, error.message, headers=error.headers)
    if isinstance(error, RequestValidationError):
        return error_response(*_validation_message(error.errors()))
    if isinstance(error, HTTPException):  # raised by FastAPI itself, e.g. an unreadable body
        code = "bad_request" if error.status_code == 400 else f"http_{error.status_code}"
        return error_response(
            error.status_code, code, str(error.detail).lower(), headers=error.headers
        )
    if isinstance(error, IntegrityError):  # lost a race, e.g. two creates of one name
        return error_response(
            409, "conflict", "a concurrent request changed the same record; try again"
        )
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            message = (
                describe_front_matter(error) if isinstance(error, FrontMatterError) else str(error)
            )
            return error_response(status, code, message)
    return None


class ApiRoute(APIRoute):
    """Turns every expected error of an API route into the JSON error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ClientDisconnect:  # nobody is left to read an answer
                client_hung_up(request.method, request.url.path)
                return Response(status_code=400)
            except Exception as error:
                response = to_response(error)
                if response is None:
                    log.exception("the API failed on %s %s", request.method, request.url.path)
                    return error_response(
                        500, "internal", "the server failed; the error was logged"
                    )
                return response

        return route


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry for the error statuses a route can return."""
    descriptions = {
        400: "Malformed request",
        401: "Missing, invalid or revoked API key",
        404: "Not found",
        409: "Conflict with the current state",
        422: "Invalid input",
        429: "Too many requests with this key; wait the seconds Retry-After says",
    }
    retry_after = {
        "Retry-After": {
            "description": "Seconds to wait before the next request",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return {
        status: {"model": ErrorBody, "description": descriptions[status]}
        | ({"headers": retry_after} if status == 429 else {})
        for status in sorted({400, 401, 422, 429, *statuses})
    }
