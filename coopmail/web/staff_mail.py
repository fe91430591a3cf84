"""The mails staff accounts get: a password reset link, and a warning after repeated
failed logins. Short plain words in the account's language, from the catalogs; sent alone
through the configured relay with the sending identity, like the other system mails.

The HTML part is the same text, escaped, paragraph by paragraph: nothing in these mails
needs a template, and nothing a person typed is ever read as markup.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns.compose import Unit
from coopmail.config import Settings
from coopmail.staff.accounts import ResetMail
from coopmail.staff.links import LINK_MAX_AGE
from coopmail.staff.login import LoginAlert
from coopmail.web.i18n import N_
from coopmail.web.mail import SystemRelay, system_headers
from mailer.headers import (
    encode_header,
    format_address,
    format_date,
    make_message_id,
    parse_address,
)
from mailer.mime import assemble, make_boundary
from subscribers.languages import writing_language
from templates.catalogs import gettext

_RESET = "reset"
_ALERT = "login-alert"
_DIGEST = "digest-approval"
# Each mail: its subject, then its paragraphs, in the catalogs' words; a paragraph that is
# only a placeholder (the link) is not a word to translate.
_WORDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    _RESET: (
        N_("Choose a new password for the %(unit)s admin"),
        (
            N_("Hello %(name)s,"),
            N_(
                "Someone, probably you, asked to choose a new password for your account "
                "%(email)s. Open this link within %(minutes)s minutes to do it:"
            ),
            "%(url)s",
            N_(
                "The link works once. If you did not ask, ignore this mail: your password "
                "stays as it is."
            ),
        ),
    ),
    _ALERT: (
        N_("Failed logins to your %(unit)s admin account"),
        (
            N_("Hello %(name)s,"),
            N_(
                "There were %(failures)s failed attempts to log in to your account %(email)s "
                "within %(minutes)s minutes, the last from the address %(ip)s at %(time)s "
                "(UTC). Logins to the account are paused for a while."
            ),
            N_(
                "If this was you, wait and try again. If it was not, tell an owner of the "
                "admin and change your password once you are logged in."
            ),
        ),
    ),
    _DIGEST: (
        N_("The %(month)s digest waits for your approval"),
        (
            N_("Hello %(name)s,"),
            N_(
                "The %(month)s issue of the digest to the list %(list)s (%(items)s stories) "
                "is ready as draft campaign %(campaign)s. Nothing is sent until an admin "
                "sends it. Review it here:"
            ),
            "%(url)s",
        ),
    ),
}


@dataclass(frozen=True, kw_only=True)
class StaffMail:
    kind: str
    email: str
    name: str
    language: str
    values: Mapping[str, str]


class StaffMails:
    """Builds and sends the staff mails; for background tasks, so failures are logged."""

    def __init__(self, *, settings: Settings, unit: Callable[[], Unit]) -> None:
        """``unit`` is asked at each mail, so the name follows what an owner last set in
        the admin, in the mail's language."""
        self._settings = settings
        self._unit = unit
        self._relay = SystemRelay(
            settings=settings, what="staff mails (reset links, login warnings)"
        )

    def reset_link(self, mail: ResetMail) -> StaffMail:
        minutes = str(int(LINK_MAX_AGE.total_seconds() // 60))
        return StaffMail(
            kind=_RESET,
            email=mail.email,
            name=mail.name,
            language=mail.language,
            values={"url": mail.url, "minutes": minutes},
        )

    def login_alert(self, alert: LoginAlert) -> StaffMail:
        return StaffMail(
            kind=_ALERT,
            email=alert.email,
            name=alert.name,
            language=alert.language,
            values={
                "failures": str(alert.failures),
                "minutes": str(alert.window_seconds // 60),
                "ip": alert.ip or "?",
                "time": alert.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            },
        )

    def digest_approval(
        self,
        *,
        email: str,
        name: str,
        language: str,
        month: str,
        list_name: str,
        items: int,
        campaign_id: int,
    ) -> StaffMail:
        return StaffMail(
            kind=_DIGEST,
            email=email,
            name=name,
            language=language,
            values={
                "month": month,
                "list": list_name,
                "items": str(items),
                "campaign": str(campaign_id),
                "url": f"{self._settings.base_url}/admin/campaigns/{campaign_id}",
            },
        )

    def send(self, mail: StaffMail) -> None:
        """Send ``mail`` now; for a background task, so it logs instead of raising."""
        self._relay.send(
            kind=mail.kind,
            recipient=mail.email,
            build=lambda: self.build(mail, now=datetime.now(UTC)),
        )

    def build(self, mail: StaffMail, *, now: datetime) -> bytes:
        language = writing_language(mail.language)
        subject_id, paragraph_ids = _WORDS[mail.kind]
        unit_name = self._unit().said_in(language)["name"]
        values = {"unit": unit_name, "email": mail.email, "name": mail.name or mail.email}
        values.update(mail.values)
        subject = gettext(subject_id, language=language, **values)
        text = "\n\n".join(
            gettext(paragraph, language=language, **values) for paragraph in paragraph_ids
        )
        sender_name, sender_address = parse_address(self._settings.from_address)
        headers = [
            ("From", format_address(name=sender_name, address=sender_address)),
            ("To", format_address(name=mail.name, address=mail.email)),
            ("Subject", encode_header(name="Subject", value=subject)),
            ("Date", format_date(now)),
            ("Message-ID", make_message_id(domain=sender_address.rpartition("@")[2])),
            *system_headers(settings=self._settings, kind=mail.kind),
        ]
        paragraphs = "".join(
            f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in text.split("\n\n")
        )
        document = f'<!DOCTYPE html><html lang="{language}"><body>{paragraphs}</body></html>'
        return assemble(headers=headers, text=text, html=document, boundary=make_boundary())
