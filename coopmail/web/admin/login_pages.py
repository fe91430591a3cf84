"""Logging in and out: the password, the second factor (or setting one up when an owner
requires it), forgotten passwords, and the page a reset or first-login link opens.

Every login starts a new session with a new id (the cookie a browser brought along is
never promoted), and so does each step after the password: a session id seen before the
person proved who they are is worthless after it.
"""

from __future__ import annotations

from starlette.background import BackgroundTasks
from starlette.responses import Response

from coopmail.staff import accounts, login, second_factor, sessions
from coopmail.staff.errors import (
    AccountDisabled,
    InvalidLink,
    LoginFailed,
    LoginThrottled,
    SecondFactorFailed,
    SecondFactorState,
    SessionInvalid,
    WeakPassword,
)
from coopmail.staff.links import read_link
from coopmail.staff.login import LoginAlert
from coopmail.staff.models import LinkPurpose, SessionStage
from coopmail.staff.passwords import MAX_LENGTH
from coopmail.web.admin import words
from coopmail.web.admin.access import LOGIN_PATH, PREFIX, STAGE_PAGES, Visit, safe_next
from coopmail.web.admin.qr import qr_svg
from coopmail.web.admin.site import AdminSite

PASSWORD_FIELD_MAX = MAX_LENGTH + 1  # one more, so a password too long is refused, not cut
CODE_MAX = 40


class LoginPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    # --- the password ------------------------------------------------------------------

    def login_page(self, visit: Visit) -> Response:
        next_page = safe_next(visit.query("next", 500))
        if visit.staff is not None:
            return self.site.redirect(next_page)
        ended = visit.query("ended")
        return self._login_form(visit, next_page=next_page, ended=ended)

    def _login_form(
        self,
        visit: Visit,
        *,
        next_page: str,
        email: str = "",
        error: str | None = None,
        status: int = 200,
        ended: str = "",
    ) -> Response:
        return self.site.render(
            visit,
            "login.html",
            status=status,
            email=email,
            next_page=next_page,
            error=error,
            ended=words.SESSION_ENDED.get(ended),
        )

    def login(self, visit: Visit) -> Response:
        email = visit.field("email", 254).strip()
        password = visit.field("password", PASSWORD_FIELD_MAX)
        next_page = safe_next(visit.field("next", 500))
        alerts: list[LoginAlert] = []
        try:
            logged_in = login.login(
                self.site.context.engine,
                email=email,
                password=password,
                ip=visit.ip,
                user_agent=visit.request.headers.get("user-agent"),
                now=visit.now,
                on_alert=alerts.append,
            )
        except LoginThrottled as error:
            response = self._login_form(
                visit,
                next_page=next_page,
                email=email,
                error=self.site.pages.say(
                    visit, words.LOGIN_THROTTLED, minutes=max(1, -(-error.retry_after // 60))
                ),
                status=429,
            )
            response.headers["Retry-After"] = str(error.retry_after)
            return self._alerting(response, alerts)
        except AccountDisabled:
            response = self._login_form(
                visit,
                next_page=next_page,
                email=email,
                error=self.site.pages.say(visit, words.ACCOUNT_DISABLED),
                status=403,
            )
            return self._alerting(response, alerts)
        except LoginFailed:
            response = self._login_form(
                visit,
                next_page=next_page,
                email=email,
                error=self.site.pages.say(visit, words.LOGIN_FAILED),
                status=400,
            )
            return self._alerting(response, alerts)
        if logged_in.stage is SessionStage.ACTIVE:
            response = self.site.redirect(next_page)
        else:
            response = self.site.redirect(STAGE_PAGES[logged_in.stage])
        self.site.cookie.set(response, logged_in.token)
        return response

    def _alerting(self, response: Response, alerts: list[LoginAlert]) -> Response:
        """Mail the account's owner, after the answer is out, when this failure was one
        too many."""
        if alerts:
            tasks = BackgroundTasks()
            for alert in alerts:
                tasks.add_task(self.site.mails.send, self.site.mails.login_alert(alert))
            response.background = tasks
        return response

    # --- the second factor ------------------------------------------------------------

    def code_page(self, visit: Visit) -> Response:
        return self.site.render(visit, "login-code.html", error=None)

    def code(self, visit: Visit) -> Response:
        assert visit.token is not None  # the guard found the pending session by it
        alerts: list[LoginAlert] = []
        try:
            logged_in = login.complete_second_factor(
                self.site.context.engine,
                token=visit.token,
                code=visit.field("code", CODE_MAX),
                ip=visit.ip,
                now=visit.now,
                on_alert=alerts.append,
            )
        except SecondFactorFailed:
            response = self.site.render(
                visit,
                "login-code.html",
                status=400,
                error=self.site.pages.say(visit, words.CODE_FAILED),
            )
            return self._alerting(response, alerts)
        except LoginThrottled as error:
            response = self.site.render(
                visit,
                "login-code.html",
                status=429,
                error=self.site.pages.say(
                    visit, words.LOGIN_THROTTLED, minutes=max(1, -(-error.retry_after // 60))
                ),
            )
            response.headers["Retry-After"] = str(error.retry_after)
            return self._alerting(response, alerts)
        except SessionInvalid:
            return self.site.redirect(LOGIN_PATH)
        response = self.site.redirect(PREFIX + "/")
        self.site.cookie.set(response, logged_in.token)
        return response

    # --- setting up a second factor an owner requires ---------------------------------

    def enrol_page(self, visit: Visit) -> Response:
        return self.site.render(visit, "login-enrol.html", enrolment=None, qr=None, error=None)

    def enrol_start(self, visit: Visit) -> Response:
        with self.site.context.session() as session:
            try:
                enrolment = second_factor.begin_enrolment(
                    session,
                    actor=visit.me.actor(),
                    account_id=visit.me.account_id,
                    issuer=self.site.unit.name,
                )
            except SecondFactorState:
                return self.site.redirect(PREFIX + "/")
        return self.site.render(
            visit, "login-enrol.html", enrolment=enrolment, qr=qr_svg(enrolment.uri), error=None
        )

    def enrol_confirm(self, visit: Visit) -> Response:
        assert visit.token is not None
        with self.site.context.session() as session:
            current = sessions.authenticate(
                session,
                token=visit.token,
                policy=self.site.policy,
                now=visit.now,
                stage=SessionStage.ENROL,
            ).session
            try:
                enabled = second_factor.confirm_enrolment(
                    session,
                    actor=visit.me.actor(),
                    account_id=visit.me.account_id,
                    code=visit.field("code", CODE_MAX),
                    now=visit.now,
                    current=current,
                )
            except (SecondFactorFailed, SecondFactorState):
                enabled = None
        if enabled is None:
            return self.site.render(
                visit,
                "login-enrol.html",
                status=400,
                enrolment=None,
                qr=None,
                error=self.site.pages.say(visit, words.ENROL_FAILED),
            )
        response = self.site.render(
            visit, "recovery-codes.html", codes=enabled.recovery_codes, continue_to=PREFIX + "/"
        )
        if enabled.session is not None:
            self.site.cookie.set(response, enabled.session.token)
        return response

    # --- logging out --------------------------------------------------------------------

    def logout_page(self, visit: Visit) -> Response:
        return self.site.render(visit, "logout.html")

    def logout(self, visit: Visit) -> Response:
        if visit.token is not None:
            with self.site.context.session() as session:
                sessions.end_session(session, token=visit.token, ip=visit.ip, now=visit.now)
        response = self.site.redirect(LOGIN_PATH, done="logged_out")
        self.site.cookie.clear(response)
        return response

    # --- forgotten passwords and the links --------------------------------------------

    def reset_page(self, visit: Visit) -> Response:
        return self.site.render(visit, "password-reset.html", sent=False, email="")

    def reset(self, visit: Visit) -> Response:
        email = visit.field("email", 254).strip()
        with self.site.context.session() as session:
            mail = accounts.request_password_reset(
                session, email=email, ip=visit.ip, signer=self.site.signer, now=visit.now
            )
        # The same answer whether or not the address has an account.
        response = self.site.render(visit, "password-reset.html", sent=True, email=email)
        if mail is not None:
            tasks = BackgroundTasks()
            tasks.add_task(self.site.mails.send, self.site.mails.reset_link(mail))
            response.background = tasks
        return response

    def password_page(self, visit: Visit) -> Response:
        token = visit.request.path_params.get("token", "")
        with self.site.context.session(write=False) as session:
            try:
                link, account = read_link(
                    session, signer=self.site.signer, token=token, now=visit.now
                )
            except InvalidLink:
                return self.site.render(visit, "link-invalid.html", status=404)
            first = link.purpose is LinkPurpose.INVITE
            email = account.email
            visit.language = account.language  # the link is the person's: their language
        return self.site.render(visit, "password.html", first=first, email=email, error=None)

    def set_password(self, visit: Visit) -> Response:
        token = visit.request.path_params.get("token", "")
        password = visit.field("password", PASSWORD_FIELD_MAX)
        again = visit.field("password_again", PASSWORD_FIELD_MAX)
        with self.site.context.session(write=False) as session:
            try:
                link, account = read_link(
                    session, signer=self.site.signer, token=token, now=visit.now
                )
            except InvalidLink:
                return self.site.render(visit, "link-invalid.html", status=404)
            first, email = link.purpose is LinkPurpose.INVITE, account.email
            visit.language = account.language
        error = None
        if password != again:
            error = self.site.pages.say(visit, words.PASSWORDS_DIFFER)
        else:
            try:
                with self.site.context.session() as session:
                    accounts.set_password_with_link(
                        session,
                        token=token,
                        password=password,
                        signer=self.site.signer,
                        ip=visit.ip,
                        now=visit.now,
                    )
            except WeakPassword as weak:
                error = words.password_problem(self.site.pages, visit, weak)
            except InvalidLink:
                return self.site.render(visit, "link-invalid.html", status=404)
        if error is not None:
            return self.site.render(
                visit, "password.html", status=400, first=first, email=email, error=error
            )
        return self.site.redirect(LOGIN_PATH, done="password_set")
