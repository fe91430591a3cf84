"""Reset and first-login links: signed, expiring after an hour, good for one use.

The token is the subscribers' HMAC token format (tokens.make_token) under a key derived
from COOPMAIL_SECRET_KEY for this purpose alone, naming a ``staff_links`` row and its
account. The row makes the link single-use (its ``used_at`` is set in the same
transaction as the new password) and lets a newer link, a password change or a disabled
account void every older one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from coopmail.staff.errors import InvalidLink
from coopmail.staff.models import LinkPurpose, StaffAccount, StaffLink
from subscribers.tokens import InvalidToken, make_token, read_token

LINK_MAX_AGE = timedelta(hours=1)
LINK_PATH = "/admin/password/"  # the page that asks for the new password
_TOKEN_PURPOSE = "staff-password-link"  # noqa: S105 - a label, not a secret
_TOKEN_MAX = 200


@dataclass(frozen=True, kw_only=True)
class LinkSigner:
    key: bytes
    base_url: str

    @classmethod
    def from_secret(cls, *, secret_key: str, base_url: str) -> LinkSigner:
        """A key of its own, so no token made for another purpose can ever pass."""
        derived = hmac.new(secret_key.encode(), b"coopmail staff links", hashlib.sha256)
        return cls(key=derived.digest(), base_url=base_url.rstrip("/"))

    def url(self, token: str) -> str:
        return f"{self.base_url}{LINK_PATH}{token}"


def issue_link(
    session: Session,
    *,
    signer: LinkSigner,
    account: StaffAccount,
    purpose: LinkPurpose,
    now: datetime,
) -> str:
    """A new link's address; every earlier unused link of the account stops working."""
    void_links(session, account_id=account.id, now=now)
    row = StaffLink(account_id=account.id, purpose=purpose, created_at=now)
    session.add(row)
    session.flush()
    token = make_token(
        key=signer.key,
        purpose=_TOKEN_PURPOSE,
        values=(row.id, account.id),
        issued_at=int(now.timestamp()),
    )
    return signer.url(token)


def void_links(session: Session, *, account_id: int, now: datetime) -> None:
    session.execute(
        update(StaffLink)
        .where(StaffLink.account_id == account_id, StaffLink.used_at.is_(None))
        .values(used_at=now)
    )


def read_link(
    session: Session, *, signer: LinkSigner, token: str, now: datetime
) -> tuple[StaffLink, StaffAccount]:
    """The link and its account while the link is usable, else InvalidLink. Reading
    uses nothing up: showing the form twice is fine."""
    if len(token) > _TOKEN_MAX:
        raise InvalidLink
    try:
        link_id, account_id = read_token(
            key=signer.key,
            purpose=_TOKEN_PURPOSE,
            token=token,
            count=2,
            max_age=int(LINK_MAX_AGE.total_seconds()),
            now=now.timestamp(),
        )
    except InvalidToken:
        raise InvalidLink from None
    link = session.get(StaffLink, link_id)
    account = session.get(StaffAccount, account_id)
    if (
        link is None
        or account is None
        or link.account_id != account.id
        or link.used_at is not None
        or not timedelta(0) <= now - link.created_at <= LINK_MAX_AGE
        or account.disabled
    ):
        raise InvalidLink
    return link, account


def use_link(
    session: Session, *, signer: LinkSigner, token: str, now: datetime
) -> tuple[StaffLink, StaffAccount]:
    """Read the link and mark it used, once: of two requests racing with the same link,
    the second finds it used."""
    link, account = read_link(session, signer=signer, token=token, now=now)
    result = session.execute(
        update(StaffLink)
        .where(StaffLink.id == link.id, StaffLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise InvalidLink
    session.refresh(link)
    return link, account
