"""Who may open what: the session cookie, the staff member behind it, and the one check
every admin route goes through (:meth:`Guard.dependency`).

The check runs in order: the cookie names a live server-side session, at the stage the
route is for, of an enabled account (else the login page, or 401 for a script); the
account's role carries the route's permission (else 403); a request that changes
anything carries the session's CSRF token in its form or its ``X-CSRF-Token`` header
(else 403). A refusal is raised as :class:`Refusal` holding the whole answer, which the
application's handler sends as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from coopmail.ids import row_id
from coopmail.staff import sessions
from coopmail.staff.errors import SessionEnd, SessionInvalid
from coopmail.staff.models import SessionStage
from coopmail.staff.roles import Actor, Permission, Role, allows
from coopmail.staff.sessions import SessionPolicy
from coopmail.web.context import WebContext
from coopmail.web.csrf import FIELD, CsrfGuard
from coopmail.web.forms import read_form, read_upload
from coopmail.web.i18n import negotiate

if TYPE_CHECKING:
    from coopmail.web.admin.render import AdminPages

PREFIX = "/admin"
LOGIN_PATH = f"{PREFIX}/login"
CSRF_HEADER = "x-csrf-token"
_SCRIPT_HEADER = "x-requested-with"
_NEXT_MAX = 500


class Open(enum.Enum):
    """Routes for someone not (yet) fully logged in, instead of a permission."""

    ANYONE = "anyone"  # the login page, reset links: no session needed
    SECOND_FACTOR = "second_factor"  # the password was right; the code is due
    ENROL = "enrol"  # the password was right; a second factor must be set up


Access = Permission | Open
_STAGES = {
    Open.SECOND_FACTOR: SessionStage.SECOND_FACTOR,
    Open.ENROL: SessionStage.ENROL,
}
STAGE_PAGES = {
    SessionStage.SECOND_FACTOR: f"{PREFIX}/login/code",
    SessionStage.ENROL: f"{PREFIX}/login/enrol",
}


@dataclass(frozen=True, kw_only=True)
class Staff:
    """The logged-in person, copied out of the database session that found them."""

    account_id: int
    email: str
    name: str
    role: Role
    language: str
    session_id: int
    csrf_token: str
    second_factor: bool
    ip: str | None

    def actor(self) -> Actor:
        return Actor(account_id=self.account_id, label=self.email, role=self.role, ip=self.ip)

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)


@dataclass(kw_only=True)
class Visit:
    """One request as a page handler sees it: checked, its form read, its language."""

    request: Request
    staff: Staff | None
    language: str
    now: datetime
    form: FormData = field(default_factory=FormData)
    token: str | None = None  # the session cookie

    @property
    def ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def field(self, name: str, limit: int = 1000) -> str:
        value = self.form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    def fields(self, name: str, limit: int = 1000) -> list[str]:
        return [value[:limit] for value in self.form.getlist(name) if isinstance(value, str)]

    def query(self, name: str, limit: int = 200) -> str:
        return self.request.query_params.get(name, "")[:limit]

    def path_id(self, name: str) -> int | None:
        """The row id in the path's ``{name}``, or None when it cannot name one."""
        return row_id(self.request.path_params.get(name, ""))

    @property
    def me(self) -> Staff:
        """The staff member of a route that required a permission."""
        assert self.staff is not None, "a route for anyone used the logged-in person"
        return self.staff


class Refusal(Exception):
    """Not this request: the answer to send instead (a redirect, a 401, a 403 page)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class SessionCookie:
    """The session id, HttpOnly and SameSite=Lax; under https also Secure, and named
    with the ``__Host-`` prefix so no other host or path can set it."""

    def __init__(self, *, https: bool, lifetime: int) -> None:
        self.secure = https
        self.name = "__Host-coopmail-admin" if https else "coopmail-admin"
        self.lifetime = lifetime

    def read(self, request: Request) -> str | None:
        return request.cookies.get(self.name) or None

    def set(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.name,
            token,
            max_age=self.lifetime,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )


def is_script(request: Request) -> bool:
    """A request from our script (or any program) rather than a page load."""
    if request.headers.get(_SCRIPT_HEADER, "").lower() == "fetch":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def safe_next(value: str) -> str:
    """Where to go after login: an admin page of ours, never another site."""
    if (
        value.startswith(PREFIX + "/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) <= _NEXT_MAX
        and value.isprintable()
        and not value.startswith(LOGIN_PATH)
    ):
        return value
    return PREFIX + "/"


class Guard:
    def __init__(
        self,
        *,
        context: WebContext,
        pages: AdminPages,
        cookie: SessionCookie,
        csrf: CsrfGuard,
    ) -> None:
        self.context = context
        self.pages = pages
        self.cookie = cookie
        self.csrf = csrf
        self.policy = SessionPolicy.from_settings(context.settings)

    def dependency(
        self, access: Access, *, changes_state: bool, upload_max: int | None = None
    ) -> Callable[..., Awaitable[Visit]]:
        """The FastAPI dependency of a route with this access; with ``upload_max``, its
        form may carry one file of that many bytes."""

        async def check(request: Request) -> Visit:
            now = self.context.clock()
            form = FormData()
            if changes_state:
                read = await (
                    read_upload(request, max_bytes=upload_max)
                    if upload_max is not None
                    else read_form(request)
                )
                if read is None:
                    raise Refusal(self._problem(request, now, 400, "unreadable"))
                form = read
            token = self.cookie.read(request)
            presented = _presented(request, form) if changes_state else None
            if access is Open.ANYONE:
                staff = await run_in_threadpool(self._maybe_staff, request, token, now)
                if presented is not None and not self.csrf.valid(request, presented):
                    raise Refusal(self._problem(request, now, 403, "expired", staff=staff))
            else:
                stage = _STAGES[access] if isinstance(access, Open) else SessionStage.ACTIVE
                found, csrf_ok = await run_in_threadpool(
                    self._staff, request, token, now, stage, presented
                )
                if isinstance(access, Permission) and not found.may(access):
                    raise Refusal(self._problem(request, now, 403, "forbidden", staff=found))
                # The session's token, from one of our own pages (as the browser says).
                if not csrf_ok or (changes_state and not self.csrf.same_origin(request)):
                    raise Refusal(self._problem(request, now, 403, "expired", staff=found))
                staff = found
            language = staff.language if staff is not None else self.language(request)
            return Visit(
                request=request, staff=staff, language=language, now=now, form=form, token=token
            )

        return check

    def language(self, request: Request) -> str:
        return negotiate(
            requested=request.query_params.get("lang"),
            preferred=None,
            accept_language=request.headers.get("accept-language"),
        )

    def _staff(
        self,
        request: Request,
        token: str | None,
        now: datetime,
        stage: SessionStage,
        presented: str | None = None,
    ) -> tuple[Staff, bool]:
        """The session's person, and whether ``presented`` (None: nothing to check) is
        the session's CSRF token."""
        if token is None:
            raise Refusal(self.to_login(request, None))
        with self.context.session(write=False) as session:
            try:
                auth = sessions.authenticate(
                    session, token=token, policy=self.policy, now=now, stage=stage
                )
            except SessionInvalid as error:
                if error.reason is SessionEnd.INCOMPLETE:
                    actual = self._pending_stage(session, token, now)
                    if actual is not None:
                        page = STAGE_PAGES.get(actual, PREFIX + "/")
                        raise Refusal(self._go(request, page)) from None
                raise Refusal(self.to_login(request, error.reason)) from None
            staff = Staff(
                account_id=auth.account.id,
                email=auth.account.email,
                name=auth.account.name,
                role=auth.account.role,
                language=auth.account.language,
                session_id=auth.session.id,
                csrf_token=auth.csrf_token,
                second_factor=auth.account.second_factor_enabled,
                ip=request.client.host if request.client else None,
            )
            due = auth.touch_due(now)
            csrf_ok = presented is None or auth.csrf_valid(presented)
        if due:
            with self.context.session() as session:
                sessions.touch(session, session_id=staff.session_id, now=now)
        return staff, csrf_ok

    def _pending_stage(self, session: Session, token: str, now: datetime) -> SessionStage | None:
        """Which stage the session is at, when it is not the one asked for."""
        for stage in SessionStage:
            try:
                sessions.authenticate(
                    session, token=token, policy=self.policy, now=now, stage=stage
                )
            except SessionInvalid:
                continue
            return stage
        return None

    def _maybe_staff(self, request: Request, token: str | None, now: datetime) -> Staff | None:
        if token is None:
            return None
        try:
            return self._staff(request, token, now, SessionStage.ACTIVE)[0]
        except Refusal:
            return None

    def _go(self, request: Request, path: str) -> Response:
        if is_script(request):
            return JSONResponse({"error": "unauthorized", "login": path}, status_code=401)
        return RedirectResponse(path, status_code=303)

    def to_login(self, request: Request, reason: SessionEnd | None) -> Response:
        """Anonymous (or ended): the login page, which then brings the person back."""
        if is_script(request):
            return JSONResponse({"error": "unauthorized", "login": LOGIN_PATH}, status_code=401)
        query: dict[str, str] = {}
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if safe_next(target) == target and target != PREFIX + "/":
                query["next"] = target
        if reason in (SessionEnd.IDLE, SessionEnd.EXPIRED):
            query["ended"] = reason.value
        suffix = f"?{urlencode(query, quote_via=quote, safe='/')}" if query else ""
        return RedirectResponse(LOGIN_PATH + suffix, status_code=303)

    def _problem(
        self,
        request: Request,
        now: datetime,
        status: int,
        problem: str,
        *,
        staff: Staff | None = None,
    ) -> Response:
        if is_script(request):
            return JSONResponse({"error": problem}, status_code=status)
        visit = Visit(
            request=request,
            staff=staff,
            language=staff.language if staff is not None else self.language(request),
            now=now,
        )
        return self.pages.problem(visit, status=status, problem=problem)


def _presented(request: Request, form: FormData) -> str:
    """The CSRF token of a form, or of a script's header."""
    value = form.get(FIELD)
    if isinstance(value, str) and value:
        return value
    return request.headers.get(CSRF_HEADER, "")
