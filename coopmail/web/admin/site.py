"""What every admin page shares, built once per application: the guard, the renderer,
the session cookie, the signer of password links, the staff mails."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from campaigns.compose import Unit
from coopmail.staff import audit
from coopmail.staff.links import LinkSigner
from coopmail.staff.sessions import SessionPolicy
from coopmail.web.admin.access import Guard, Refusal, SessionCookie, Visit
from coopmail.web.admin.render import AdminPages
from coopmail.web.context import WebContext
from coopmail.web.csrf import CsrfGuard, origin_of
from coopmail.web.staff_mail import StaffMails


class AdminSite:
    def __init__(self, context: WebContext) -> None:
        settings = context.settings
        self.context = context
        self.settings = settings
        https = settings.base_url.startswith("https://")
        secret = settings.require_secret_key().reveal()
        self.csrf = CsrfGuard(
            key=secret.encode(), secure=https, origin=origin_of(settings.base_url)
        )
        self.pages = AdminPages(
            unit=lambda: context.composer.unit, csrf=self.csrf, timezone=settings.timezone
        )
        self.cookie = SessionCookie(https=https, lifetime=settings.session_lifetime)
        self.guard = Guard(context=context, pages=self.pages, cookie=self.cookie, csrf=self.csrf)
        self.policy = SessionPolicy.from_settings(settings)
        self.signer = LinkSigner.from_secret(secret_key=secret, base_url=settings.base_url)
        self.mails = StaffMails(settings=settings, unit=lambda: context.composer.unit)

    def path_id(self, visit: Visit, name: str) -> int:
        """The row id in the path's ``{name}``. A path that cannot name one is answered
        "not found" there and then (a Refusal), so the page reads on with the id."""
        found = visit.path_id(name)
        if found is None:
            raise Refusal(self.pages.problem(visit, status=404, problem="not_found"))
        return found

    @property
    def unit(self) -> Unit:
        """Who sends, with the texts owners last set (the composer reads them)."""
        return self.context.composer.unit

    def render(self, visit: Visit, template: str, **context: Any) -> Response:
        return self.pages.render(visit, template, **context)

    @staticmethod
    def redirect(path: str, *, done: str | None = None, **query: str) -> RedirectResponse:
        """After a change: back to a page (POST, redirect, GET), saying what was done."""
        values = {**query, **({"done": done} if done else {})}
        suffix = ("&" if "?" in path else "?") + urlencode(values) if values else ""
        return RedirectResponse(path + suffix, status_code=303)

    @staticmethod
    def record(
        session: Session,
        visit: Visit,
        action: str,
        *,
        target_type: str | None = None,
        target_id: int | str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """One audit entry for a staff action the use case itself does not record (the
        address book and API keys know nothing of staff)."""
        audit.record(
            session,
            actor=visit.me.actor(),
            action=action,
            now=visit.now,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
