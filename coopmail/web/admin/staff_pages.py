"""Staff (owners): the accounts, their roles and second factors, their sessions; create
an account (with a first-login link), change a role, require a second factor, disable,
enable, reset. Every rule (nobody grants above their own role, the last owner stays) is
the staff use cases'; this page only says their answers in the person's words."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from coopmail.ids import row_id
from coopmail.staff import accounts, second_factor, sessions
from coopmail.staff.accounts import find_account
from coopmail.staff.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccountField,
    LastOwner,
    PermissionDenied,
    RoleTooHigh,
    SecondFactorState,
    StaffError,
)
from coopmail.staff.models import StaffAccount
from coopmail.staff.roles import Role
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite


def account_view(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
        "language": account.language,
        "disabled": account.disabled,
        "password_set": account.password_hash is not None,
        "second_factor": account.second_factor_enabled,
        "second_factor_required": account.second_factor_required,
        "created_at": account.created_at,
        "last_login_at": account.last_login_at,
    }


def staff_error(site: AdminSite, visit: Visit, error: StaffError) -> str:
    """A staff use case's refusal in the person's language."""
    message = words.FIELD_INVALID
    if isinstance(error, RoleTooHigh):
        message = words.ROLE_TOO_HIGH
    elif isinstance(error, LastOwner):
        message = words.LAST_OWNER
    elif isinstance(error, AccountExists):
        message = words.ACCOUNT_EXISTS
    elif isinstance(error, InvalidAccountField):
        message = words.ACCOUNT_FIELDS.get(error.field, words.FIELD_INVALID)
    elif isinstance(error, SecondFactorState):
        message = words.SECOND_FACTOR_STATES.get(error.state, words.FIELD_INVALID)
    elif isinstance(error, PermissionDenied):
        message = words.PROBLEMS["forbidden"]
    return site.pages.say(visit, message)


class StaffPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def staff_page(self, visit: Visit) -> Response:
        return self._staff(visit)

    def _staff(
        self,
        visit: Visit,
        *,
        status: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
        link: tuple[str, str] | None = None,
    ) -> Response:
        text = visit.query("q", 200).strip()
        with self.site.context.session(write=False) as session:
            page = accounts.search_accounts(
                session,
                actor=visit.me.actor(),
                text=text or None,
                after=visit.query("after", 254) or None,
            )
            rows = [account_view(account) for account in page.accounts]
        return self.site.render(
            visit,
            "staff.html",
            status=status,
            rows=rows,
            next_after=page.next_after,
            text=text,
            roles=[role.value for role in Role],
            error=error,
            values=values or {"role": Role.EDITOR.value, "language": visit.me.language},
            link=link,
        )

    def create(self, visit: Visit) -> Response:
        values = {
            "email": visit.field("email", 300).strip(),
            "name": visit.field("name", 300).strip(),
            "role": visit.field("role"),
            "language": visit.field("language"),
        }
        if values["role"] not in {role.value for role in Role}:
            return self._staff(
                visit,
                status=400,
                error=self.site.pages.say(visit, words.CHOOSE_ROLE),
                values=values,
            )
        try:
            with self.site.context.session() as session:
                account = accounts.create_account(
                    session,
                    actor=visit.me.actor(),
                    email=values["email"],
                    role=Role(values["role"]),
                    name=values["name"],
                    language=values["language"],
                    now=visit.now,
                )
                url = accounts.invite(
                    session,
                    actor=visit.me.actor(),
                    reference=str(account.id),
                    signer=self.site.signer,
                    now=visit.now,
                )
                email = account.email
        except StaffError as error:
            return self._staff(
                visit, status=400, error=staff_error(self.site, visit, error), values=values
            )
        return self._staff(visit, status=201, link=(email, url))

    # --- one account ---------------------------------------------------------------------

    def account_page(self, visit: Visit) -> Response:
        return self._account(visit)

    def _account(
        self,
        visit: Visit,
        *,
        status: int = 200,
        error: str | None = None,
        link: str | None = None,
    ) -> Response:
        with self.site.context.session(write=False) as session:
            account = self._find(session, visit)
            if account is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            view = account_view(account)
            live = sessions.list_sessions(
                session,
                actor=visit.me.actor(),
                account_id=account.id,
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
                    "current": row.id == visit.me.session_id,
                }
                for row in live
            ]
            codes_left = second_factor.remaining_recovery_codes(session, account_id=account.id)
        return self.site.render(
            visit,
            "staff-account.html",
            status=status,
            account=view,
            sessions=session_rows,
            codes_left=codes_left,
            roles=[role.value for role in Role],
            error=error,
            link=link,
        )

    def _find(self, session: Any, visit: Visit) -> StaffAccount | None:
        raw = visit.request.path_params.get("account_id", "")
        if row_id(raw) is None:
            return None
        try:
            return find_account(session, reference=raw)
        except AccountNotFound:
            return None

    def _change(self, visit: Visit, done: str, action: Any) -> Response:
        """Run one staff use case on the account of the path, then back to its page."""
        account_id = visit.request.path_params["account_id"]
        try:
            with self.site.context.session() as session:
                if self._find(session, visit) is None:
                    return self.site.pages.problem(visit, status=404, problem="not_found")
                result = action(session, account_id)
        except StaffError as error:
            return self._account(visit, status=400, error=staff_error(self.site, visit, error))
        if isinstance(result, str):  # a link to hand over, shown once
            return self._account(visit, link=result)
        return self.site.redirect(f"/admin/staff/{account_id}", done=done)

    def set_role(self, visit: Visit) -> Response:
        role = visit.field("role")
        if role not in {r.value for r in Role}:
            return self._account(
                visit, status=400, error=self.site.pages.say(visit, words.CHOOSE_ROLE)
            )
        return self._change(
            visit,
            "role_changed",
            lambda session, ref: accounts.set_role(
                session, actor=visit.me.actor(), reference=ref, role=Role(role), now=visit.now
            ),
        )

    def disable(self, visit: Visit) -> Response:
        return self._change(
            visit,
            "disabled",
            lambda session, ref: accounts.disable_account(
                session, actor=visit.me.actor(), reference=ref, now=visit.now
            ),
        )

    def enable(self, visit: Visit) -> Response:
        return self._change(
            visit,
            "enabled",
            lambda session, ref: accounts.enable_account(
                session, actor=visit.me.actor(), reference=ref, now=visit.now
            ),
        )

    def require_second_factor(self, visit: Visit) -> Response:
        required = visit.field("required") == "yes"
        return self._change(
            visit,
            "saved",
            lambda session, ref: accounts.set_second_factor_required(
                session, actor=visit.me.actor(), reference=ref, required=required, now=visit.now
            ),
        )

    def turn_off_second_factor(self, visit: Visit) -> Response:
        """For a lost phone: the person logs in with the password alone, then sets it up
        again (or is made to, if it is required)."""
        return self._change(
            visit,
            "second_factor_off",
            lambda session, ref: second_factor.disable(
                session, actor=visit.me.actor(), account_id=int(ref), now=visit.now
            ),
        )

    def reset(self, visit: Visit) -> Response:
        return self._change(
            visit,
            "reset",
            lambda session, ref: accounts.reset_account(
                session,
                actor=visit.me.actor(),
                reference=ref,
                signer=self.site.signer,
                now=visit.now,
            ),
        )

    def invite(self, visit: Visit) -> Response:
        return self._change(
            visit,
            "invited",
            lambda session, ref: accounts.invite(
                session,
                actor=visit.me.actor(),
                reference=ref,
                signer=self.site.signer,
                now=visit.now,
            ),
        )

    def revoke_session(self, visit: Visit) -> Response:
        session_id = visit.path_id("session_id") or 0  # 0 is no session: "not found"
        return self._change(
            visit,
            "session_revoked",
            lambda session, ref: (
                sessions.revoke_session(
                    session, actor=visit.me.actor(), session_id=session_id, now=visit.now
                )
                and None
            ),
        )
