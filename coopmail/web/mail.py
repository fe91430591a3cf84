"""The mails the public pages send: the confirmation request and the welcome.

Each is written in the person's language when we write in it (the system templates and
the subjects below take their words from the catalogs), else in English. They go out
after the response (a background task), one SMTP connection each, through the
configured relay with the sending identity (DKIM, bounce address). A failure is logged and
never reaches the visitor, whose page already said what to expect.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from campaigns.compose import Composer, Composition, Unit
from campaigns.worker import SendingIdentity
from coopmail.config import Settings
from coopmail.delivery import sending_identity, smtp_settings
from coopmail.errors import ConfigError
from coopmail.web.i18n import N_, duration
from mailer.errors import MailerError
from mailer.headers import (
    encode_header,
    format_address,
    format_date,
    format_feedback_id,
    list_unsubscribe,
    make_message_id,
    parse_address,
)
from mailer.mime import assemble, make_boundary
from mailer.smtp import Outcome, SmtpSettings
from subscribers.languages import writing_language
from templates.catalogs import gettext

log = logging.getLogger("coopmail.web.mail")

CONFIRM = "confirm-subscription"
WELCOME = "welcome"
_SUBJECTS = {
    CONFIRM: N_("Please confirm your subscription to the news of the %(unit)s"),
    WELCOME: N_("Welcome to the news of the %(unit)s"),
}
_CACHE_MAX = 64


@dataclass(frozen=True, kw_only=True)
class Mail:
    """One transactional mail to send: which system template, to whom, with what."""

    template: str
    email: str
    name: str = ""
    language: str = "en"
    list_titles: tuple[str, ...] = ()
    urls: dict[str, str] = field(default_factory=dict)
    expires_in_seconds: int = 0  # how long the link in it stays valid, if it has one
    # The signed token of urls["unsubscribe_url"] (the welcome's), for the mailto address.
    unsubscribe_token: str | None = None


class SystemRelay:
    """Sends one system mail at a time on a connection of its own, signed and with the
    envelope a campaign's message would have; for background tasks, so it logs what went
    wrong instead of raising. Without a relay configured it says so once and sends nothing."""

    def __init__(self, *, settings: Settings, what: str) -> None:
        self._from = parse_address(settings.from_address)[1]
        self._identity: SendingIdentity | None = None
        self._smtp: SmtpSettings | None = None
        try:
            self._smtp = smtp_settings(settings)
            self._identity = sending_identity(settings)
        except ConfigError as error:
            log.warning("%s will not be sent: %s", what, error)

    def send(self, *, kind: str, recipient: str, build: Callable[[], bytes]) -> None:
        if self._smtp is None or self._identity is None:
            log.warning("%s mail not sent: no SMTP relay is configured", kind)
            return
        try:
            result = self._identity.send_alone(
                smtp=self._smtp, from_address=self._from, recipient=recipient, message=build()
            )
        except (MailerError, OSError):
            log.exception("%s mail could not be sent", kind)
            return
        if result.outcome is not Outcome.SENT:
            log.warning(
                "%s mail not accepted by the relay (%s at %s): %s",
                kind,
                result.code,
                result.stage,
                result.reply,
            )


class Postman:
    """Composes system mails (each variant once, then cached) and sends them one by one."""

    def __init__(self, *, settings: Settings, composer: Composer) -> None:
        self._settings = settings
        self._composer = composer
        self._cache_lock = threading.Lock()  # background tasks run in a thread pool
        self._cache: dict[tuple[str, str, tuple[str, ...], int], Composition] = {}
        self._cache_unit: Unit | None = None  # the unit's texts the cached mails give
        self._relay = SystemRelay(settings=settings, what="confirmation and welcome mails")

    def send(self, mail: Mail) -> None:
        """Send ``mail`` now; for a background task, so it logs instead of raising."""
        self._relay.send(
            kind=mail.template,
            recipient=mail.email,
            build=lambda: self.build(mail, now=datetime.now(UTC)),
        )

    def build(self, mail: Mail, *, now: datetime) -> bytes:
        composition = self._composition(mail)
        values = {
            "email": mail.email,
            "name": mail.name,
            "language": mail.language,
            **mail.urls,
        }
        sender_name, sender_address = parse_address(self._settings.from_address)
        headers = [
            ("From", format_address(name=sender_name, address=sender_address)),
            ("To", format_address(name=mail.name, address=mail.email)),
            ("Subject", encode_header(name="Subject", value=composition.subject.fill(values))),
            ("Date", format_date(now)),
            ("Message-ID", make_message_id(domain=sender_address.rpartition("@")[2])),
            *system_headers(settings=self._settings, kind=mail.template),
        ]
        if mail.unsubscribe_token is not None:  # the welcome: leaving is as in letters
            headers += list_unsubscribe(
                url=mail.urls["unsubscribe_url"],
                # The bounce mailbox, where `coopmail bounces` reads mailto unsubscribes.
                mailbox=self._settings.bounce_address or sender_address,
                token=mail.unsubscribe_token,
            )
        return assemble(
            headers=headers,
            text=composition.text.fill(values),
            html=composition.html.fill(values),
            boundary=make_boundary(),
        )

    def _composition(self, mail: Mail) -> Composition:
        language = writing_language(mail.language)
        key = (mail.template, language, mail.list_titles, mail.expires_in_seconds)
        unit = self._composer.unit
        with self._cache_lock:
            if unit is not self._cache_unit:  # an owner changed the unit's texts
                self._cache.clear()
                self._cache_unit = unit
            composition = self._cache.get(key)
            if composition is None:
                expires_in = (
                    duration(mail.expires_in_seconds, language) if mail.expires_in_seconds else ""
                )
                composition = self._composer.compose_system(
                    name=mail.template,
                    subject=_subject(mail.template, language),
                    language=language,
                    meta={"lists": list(mail.list_titles), "expires_in": expires_in},
                )
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[key] = composition
            return composition


def system_headers(*, settings: Settings, kind: str) -> list[tuple[str, str]]:
    """The headers every system mail of ``kind`` carries: ``Auto-Submitted`` (RFC 3834:
    sent by a program, so vacation responders stay quiet) and, with the ``feedback_id``
    setting, a ``Feedback-ID`` of ``system:<kind>:<sender>``, so that Gmail's feedback loop
    counts complaints about these mails apart from every campaign (whose first field is its
    number) and names no person."""
    headers = [("Auto-Submitted", "auto-generated")]
    if settings.feedback_id is not None:
        feedback_id = format_feedback_id(identifiers=("system", kind), sender=settings.feedback_id)
        headers.append(("Feedback-ID", feedback_id))
    return headers


def _subject(template: str, language: str) -> str:
    """The subject in ``language``, a template itself: the unit's name is the one the mail's
    footer gives in that language, and staff text is never read as template code."""
    return gettext(_SUBJECTS[template], language=language, unit="{{ unit.name }}")
