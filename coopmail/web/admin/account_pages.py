"""One's own account: name and language, password, second factor (set up with a QR code
drawn on the server, turned off, new recovery codes) and one's sessions."""

from __future__ import annotations

from starlette.responses import Response

from coopmail.staff import accounts, second_factor, sessions
from coopmail.staff.errors import (
    InvalidAccountField,
    LoginFailed,
    SecondFactorFailed,
    SecondFactorState,
    StaffError,
    WeakPassword,
)
from coopmail.staff.models import SessionStage, StaffAccount
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.login_pages import CODE_MAX, PASSWORD_FIELD_MAX
from coopmail.web.admin.qr import qr_svg
from coopmail.web.admin.site import AdminSite
from coopmail.web.admin.staff_pages import staff_error


class AccountPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def account_page(self, visit: Visit) -> Response:
        return self._page(visit)

    def _page(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        enrolment: object | None = None,
        qr: object | None = None,
        codes: list[str] | None = None,
    ) -> Response:
        me = visit.me
        with self.site.context.session(write=False) as session:
            account = session.get(StaffAccount, me.account_id)
            assert account is not None  # the guard just found it
            required = account.second_factor_required
            enabled = account.second_factor_enabled
            codes_left = second_factor.remaining_recovery_codes(session, account_id=account.id)
            live = sessions.list_sessions(
                session,
                actor=me.actor(),
                account_id=me.account_id,
                policy=self.site.policy,
                now=visit.now,
            )
            session_rows = [
                {
                    "id": row.id,
                    "created_at": row.created_at,
                    "last_seen_at": row.last_seen_at,
                    "ip": row.ip,
                    "user_agent": row.user_agent,
                    "current": row.id == me.session_id,
                }
                for row in live
            ]
        return self.site.render(
            visit,
            "account.html",
            status=status,
            errors=errors or {},
            required=required,
            enabled=enabled,
            codes_left=codes_left,
            sessions=session_rows,
            enrolment=enrolment,
            qr=qr,
            codes=codes,
        )

    def profile(self, visit: Visit) -> Response:
        try:
            with self.site.context.session() as session:
                accounts.update_profile(
                    session,
                    actor=visit.me.actor(),
                    reference=str(visit.me.account_id),
                    name=visit.field("name", 300),
                    language=visit.field("language"),
                    now=visit.now,
                )
        except InvalidAccountField as error:
            return self._page(
                visit, status=400, errors={"profile": staff_error(self.site, visit, error)}
            )
        return self.site.redirect("/admin/account", done="saved")

    def password(self, visit: Visit) -> Response:
        current = visit.field("current_password", PASSWORD_FIELD_MAX)
        new = visit.field("new_password", PASSWORD_FIELD_MAX)
        again = visit.field("new_password_again", PASSWORD_FIELD_MAX)
        if new != again:
            return self._page(
                visit,
                status=400,
                errors={"password": self.site.pages.say(visit, words.PASSWORDS_DIFFER)},
            )
        try:
            with self.site.context.session() as session:
                account = accounts.change_password(
                    session,
                    actor=visit.me.actor(),
                    current_password=current,
                    new_password=new,
                    now=visit.now,
                )
                # Every session ended, this one too: the person stays, in a new one.
                fresh = sessions.start_session(
                    session,
                    account=account,
                    stage=SessionStage.ACTIVE,
                    ip=visit.ip,
                    user_agent=visit.request.headers.get("user-agent"),
                    now=visit.now,
                )
        except LoginFailed:
            return self._page(
                visit,
                status=400,
                errors={"password": self.site.pages.say(visit, words.CURRENT_PASSWORD_WRONG)},
            )
        except WeakPassword as weak:
            return self._page(
                visit,
                status=400,
                errors={"password": words.password_problem(self.site.pages, visit, weak)},
            )
        response = self.site.redirect("/admin/account", done="password_changed")
        self.site.cookie.set(response, fresh.token)
        return response

    def enrol_start(self, visit: Visit) -> Response:
        try:
            with self.site.context.session() as session:
                enrolment = second_factor.begin_enrolment(
                    session,
                    actor=visit.me.actor(),
                    account_id=visit.me.account_id,
                    issuer=self.site.unit.name,
                )
        except SecondFactorState as error:
            return self._page(
                visit, status=400, errors={"factor": staff_error(self.site, visit, error)}
            )
        return self._page(visit, enrolment=enrolment, qr=qr_svg(enrolment.uri))

    def enrol_confirm(self, visit: Visit) -> Response:
        try:
            with self.site.context.session() as session:
                enabled = second_factor.confirm_enrolment(
                    session,
                    actor=visit.me.actor(),
                    account_id=visit.me.account_id,
                    code=visit.field("code", CODE_MAX),
                    now=visit.now,
                )
        except SecondFactorFailed:
            return self._page(
                visit,
                status=400,
                errors={"factor": self.site.pages.say(visit, words.ENROL_FAILED)},
            )
        except SecondFactorState as error:
            return self._page(
                visit, status=400, errors={"factor": staff_error(self.site, visit, error)}
            )
        return self.site.render(
            visit, "recovery-codes.html", codes=enabled.recovery_codes, continue_to="/admin/account"
        )

    def factor_off(self, visit: Visit) -> Response:
        try:
            with self.site.context.session() as session:
                second_factor.disable(
                    session, actor=visit.me.actor(), account_id=visit.me.account_id, now=visit.now
                )
        except StaffError as error:
            return self._page(
                visit, status=400, errors={"factor": staff_error(self.site, visit, error)}
            )
        return self.site.redirect("/admin/account", done="second_factor_off")

    def renew_codes(self, visit: Visit) -> Response:
        try:
            with self.site.context.session() as session:
                codes = second_factor.renew_recovery_codes(
                    session, actor=visit.me.actor(), account_id=visit.me.account_id, now=visit.now
                )
        except StaffError as error:
            return self._page(
                visit, status=400, errors={"factor": staff_error(self.site, visit, error)}
            )
        return self.site.render(
            visit, "recovery-codes.html", codes=codes, continue_to="/admin/account"
        )

    def revoke_session(self, visit: Visit) -> Response:
        session_id = visit.path_id("session_id") or 0  # 0 is no session: "not found"
        try:
            with self.site.context.session() as session:
                sessions.revoke_session(
                    session, actor=visit.me.actor(), session_id=session_id, now=visit.now
                )
        except StaffError:
            return self.site.pages.problem(visit, status=403, problem="forbidden")
        return self.site.redirect("/admin/account", done="session_revoked")
