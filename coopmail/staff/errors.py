"""What can go wrong with staff accounts: each error carries its facts as fields, and a
plain sentence; the CLI and the pages add what to do next."""

from __future__ import annotations

import enum

from coopmail.errors import CoopmailError


class StaffError(CoopmailError):
    """Base of every staff error."""


class AccountNotFound(StaffError):
    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"there is no staff account {reference!r}")


class AccountExists(StaffError):
    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"a staff account for {email} already exists")


class InvalidAccountField(StaffError):
    """An email, name, role or language that cannot be an account's."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} {value!r}: {reason}")


class PasswordProblem(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    LIKE_ACCOUNT = "like_account"


class WeakPassword(StaffError):
    def __init__(self, problem: PasswordProblem, *, minimum: int, maximum: int) -> None:
        self.problem = problem
        self.minimum = minimum
        self.maximum = maximum
        reasons = {
            PasswordProblem.TOO_SHORT: f"is shorter than {minimum} characters",
            PasswordProblem.TOO_LONG: f"is longer than {maximum} characters",
            PasswordProblem.COMMON: "is too common or too easy to guess",
            PasswordProblem.LIKE_ACCOUNT: "contains the account's address or name",
        }
        super().__init__(f"the password {reasons[problem]}")


class PermissionDenied(StaffError):
    def __init__(self, role: str, permission: str) -> None:
        self.role = role
        self.permission = permission
        super().__init__(f"the {role} role does not allow {permission.replace('_', ' ')}")


class RoleTooHigh(StaffError):
    """Nobody grants a role above their own, or changes an account above their own."""

    def __init__(self, actor_role: str, role: str) -> None:
        self.actor_role = actor_role
        self.role = role
        super().__init__(f"the {actor_role} role cannot give or change the {role} role")


class LastOwner(StaffError):
    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"{email} is the last active owner; make another owner first")


class LoginFailed(StaffError):
    """Wrong address or password, deliberately without saying which."""

    def __init__(self) -> None:
        super().__init__("the address or the password is wrong")


class AccountDisabled(StaffError):
    """Said only to someone who gave the right password."""

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"the staff account {email} is disabled")


class LoginThrottled(StaffError):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")


class SecondFactorFailed(StaffError):
    def __init__(self) -> None:
        super().__init__("the code is wrong, expired or already used")


class SessionEnd(enum.StrEnum):
    UNKNOWN = "unknown"  # never existed, logged out or revoked
    IDLE = "idle"
    EXPIRED = "expired"
    INCOMPLETE = "incomplete"  # the second factor (or its enrolment) is still due


class SessionInvalid(StaffError):
    def __init__(self, reason: SessionEnd) -> None:
        self.reason = reason
        super().__init__(f"the session is not valid ({reason.value})")


class InvalidLink(StaffError):
    """Tampered, expired, already used or superseded: one answer for all."""

    def __init__(self) -> None:
        super().__init__("this link is not valid, has expired or was already used")


class SecondFactorState(StaffError):
    """A second-factor step that does not fit the account's state."""

    def __init__(self, email: str, state: str) -> None:
        self.email = email
        self.state = state
        super().__init__(f"{email}: {state.replace('_', ' ')}")
