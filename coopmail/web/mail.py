# ruff: noqa: RUF001 - French is written with the typographic apostrophe, on purpose
"""The mails the public pages send: the confirmation request and the welcome.

Each is written in the person's language when we have it (the system templates and the
subjects below come in every language of the public pages), else in English. They go out
after the response (a background task), one SMTP connection each, through the
configured relay with the sending identity (DKIM, bounce address). A failure is logged and
never reaches the visitor, whose page already said what to expect.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from campaigns.compose import Composer, Composition
from campaigns.worker import SendingIdentity
from coopmail.config import Settings
from coopmail.delivery import sending_identity, smtp_settings
from coopmail.errors import ConfigError
from coopmail.web.i18n import DEFAULT_LANGUAGE, duration, ours
from mailer.errors import MailerError
from mailer.headers import (
    encode_header,
    format_address,
    format_date,
    make_message_id,
    parse_address,
)
from mailer.mime import assemble, make_boundary
from mailer.smtp import Outcome, SmtpSettings

log = logging.getLogger("coopmail.web.mail")

CONFIRM = "confirm-subscription"
WELCOME = "welcome"
# The subjects are Jinja2 templates too, in every language the public pages speak.
_SUBJECTS: Mapping[str, Mapping[str, str]] = {
    CONFIRM: {
        "en": "Please confirm your subscription to the news of the {{ unit.name }}",
        "fr": "Veuillez confirmer votre abonnement aux nouvelles de l’équipe {{ unit.name }}",
        "es": "Confirme su suscripción a las noticias de la unidad {{ unit.name }}",
    },
    WELCOME: {
        "en": "Welcome to the news of the {{ unit.name }}",
        "fr": "Bienvenue : vous recevrez désormais les nouvelles de l’équipe {{ unit.name }}",
        "es": "Le damos la bienvenida a las noticias de la unidad {{ unit.name }}",
    },
}
_CACHE_MAX = 64


def mail_language(language: str | None) -> str:
    """The language a system mail goes out in: the person's (``fr-CA`` is ``fr``) when we
    write in it, else English."""
    return ours(language) or DEFAULT_LANGUAGE


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


class Postman:
    """Composes system mails (each variant once, then cached) and sends them one by one."""

    def __init__(self, *, settings: Settings, composer: Composer) -> None:
        self._settings = settings
        self._composer = composer
        self._cache_lock = threading.Lock()  # background tasks run in a thread pool
        self._cache: dict[tuple[str, str, tuple[str, ...], int], Composition] = {}
        self._identity: SendingIdentity | None = None
        self._smtp: SmtpSettings | None = None
        try:
            self._smtp = smtp_settings(settings)
            self._identity = sending_identity(settings)
        except ConfigError as error:
            log.warning("confirmation and welcome mails will not be sent: %s", error)

    def send(self, mail: Mail) -> None:
        """Send ``mail`` now; for a background task, so it logs instead of raising."""
        if self._smtp is None or self._identity is None:
            log.warning(
                "%s mail not sent: no SMTP relay is configured (set COOPMAIL_SMTP_URL)",
                mail.template,
            )
            return
        try:
            result = self._identity.send_alone(
                smtp=self._smtp,
                from_address=parse_address(self._settings.from_address)[1],
                recipient=mail.email,
                message=self.build(mail, now=datetime.now(UTC)),
            )
        except (MailerError, OSError):
            log.exception("%s mail could not be sent", mail.template)
            return
        if result.outcome is not Outcome.SENT:
            log.warning(
                "%s mail not accepted by the relay (%s at %s): %s",
                mail.template,
                result.code,
                result.stage,
                result.reply,
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
            # RFC 3834: sent by a program, so vacation responders stay quiet.
            ("Auto-Submitted", "auto-generated"),
        ]
        return assemble(
            headers=headers,
            text=composition.text.fill(values),
            html=composition.html.fill(values),
            boundary=make_boundary(),
        )

    def _composition(self, mail: Mail) -> Composition:
        language = mail_language(mail.language)
        key = (mail.template, language, mail.list_titles, mail.expires_in_seconds)
        with self._cache_lock:
            composition = self._cache.get(key)
            if composition is None:
                expires_in = (
                    duration(mail.expires_in_seconds, language) if mail.expires_in_seconds else ""
                )
                composition = self._composer.compose_system(
                    name=mail.template,
                    subject=_SUBJECTS[mail.template][language],
                    language=language,
                    meta={"lists": list(mail.list_titles), "expires_in": expires_in},
                )
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[key] = composition
            return composition
