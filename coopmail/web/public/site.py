"""What every public page shares: settings, tokens, CSRF, forms, the neutral answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from campaigns.compose import Unit
from campaigns.links import Links
from coopmail.web.context import WebContext
from coopmail.web.csrf import CsrfGuard, origin_of
from coopmail.web.i18n import ADDRESS_BLOCKED, DATABASE_BUSY, Translator, negotiate
from coopmail.web.mail import Postman
from coopmail.web.public.pages import Pages
from coopmail.web.subscribe_mail import SubscriptionMails, preferences_url
from subscribers.lists import list_words
from subscribers.models import MailingList, OptIn
from subscribers.tokens import InvalidToken, read_token

_TOKEN_MAX = 400
RETRY_AFTER = "60"  # seconds, for a 503 while the database is busy

FormHandler = Callable[[Request, FormData, str], Response]
"""A POST handler: the request, its form (read and CSRF-checked) and the page language."""


@dataclass(frozen=True, kw_only=True)
class ListChoice:
    """A list as a form offers it, detached from the database session."""

    id: int
    name: str
    title: str
    description: str
    double: bool
    checked: bool = False


class PublicSite:
    """Built once per application; its ``mails`` (and their Postman) serve the API too."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        settings = context.settings
        self.key = settings.require_secret_key().reveal().encode()
        self.base_url = settings.base_url
        self.confirm_max_age = settings.confirm_max_age
        self.csrf = CsrfGuard(
            key=self.key,
            secure=settings.base_url.startswith("https://"),
            origin=origin_of(settings.base_url),
        )
        self.pages = Pages(unit=lambda: context.composer.unit, csrf=self.csrf)
        self.postman = Postman(settings=settings, composer=context.composer)
        self.links = Links(base_url=self.base_url, key=self.key, campaign_id=0)
        self.mails = SubscriptionMails(
            confirm_max_age=self.confirm_max_age, links=self.links, postman=self.postman
        )

    @property
    def unit(self) -> Unit:
        """Who sends, as staff last set its texts (the composer reads them)."""
        return self.context.composer.unit

    def unit_name(self, language: str) -> str:
        """The unit's name as said in ``language``."""
        return str(self.unit.as_context(language)["name"])

    def language(self, request: Request, preferred: str | None = None) -> str:
        return negotiate(
            requested=request.query_params.get("lang"),
            preferred=preferred,
            accept_language=request.headers.get("accept-language"),
        )

    def consent_ip(self, request: Request) -> str | None:
        """The visitor's address for a consent record, only if the unit chose to keep it."""
        if not self.context.settings.record_ip or request.client is None:
            return None
        return request.client.host

    def token_values(
        self, request: Request, *, purpose: str, count: int | None, max_age: int | None = None
    ) -> tuple[int, ...] | None:
        """The values of the path's token, or None for any token that is not valid."""
        token = request.path_params.get("token", "")
        if len(token) > _TOKEN_MAX:
            return None
        try:
            return read_token(
                key=self.key, purpose=purpose, token=token, count=count, max_age=max_age
            )
        except InvalidToken:
            return None

    def preferences_url(self, subscriber_id: int, language: str) -> str:
        return preferences_url(self.links, subscriber_id=subscriber_id, language=language)

    def message(
        self,
        request: Request,
        language: str,
        message: str,
        *,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A page that says one thing went wrong, and what to do: ``message``, a msgid that
        may name the unit's address as ``%(email)s``."""
        response = self.pages.render(
            request,
            "message.html",
            language=language,
            status=status,
            body=Translator(language).gettext(message, email=self.unit.email),
        )
        response.headers.update(headers or {})
        return response

    def busy(self, request: Request, language: str) -> Response:
        """The database did not answer in time (a backup, a long import): nothing was done,
        and the visitor is told to come back, in their language; so are robots."""
        return self.message(
            request, language, DATABASE_BUSY, status=503, headers={"Retry-After": RETRY_AFTER}
        )

    def invalid(self, request: Request, language: str) -> Response:
        """The one answer to every link that leads nowhere: tampered, expired or unknown."""
        return self.pages.render(request, "invalid.html", language=language, status=404)

    def blocked(self, request: Request, language: str) -> Response:
        """The address is suppressed for a reason the person cannot lift themselves."""
        return self.message(request, language, ADDRESS_BLOCKED, status=409)


def list_choice(mailing_list: MailingList, *, language: str, checked: bool = False) -> ListChoice:
    """The list as the page shows it: its title and description in the page's language."""
    words = list_words(mailing_list, language=language)
    return ListChoice(
        id=mailing_list.id,
        name=mailing_list.name,
        title=words.title,
        description=words.description,
        double=mailing_list.opt_in is OptIn.DOUBLE,
        checked=checked,
    )
