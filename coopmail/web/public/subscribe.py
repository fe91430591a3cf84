"""``/subscribe`` and ``/confirm/{token}``: the form, double opt-in and the welcome.

Every address gets the same answer, whether it is known, unknown, suppressed or over its
limit, so the form tells nobody who is subscribed. Nothing but the confirmation request is
sent before the person confirms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTasks
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from coopmail.throttle import network_key
from coopmail.web.forms import TEXT_MAX, text
from coopmail.web.i18n import (
    CONFIRM_BUTTON,
    CONSENT_WORDING,
    INVALID_EMAIL,
    INVALID_LANGUAGE,
    INVALID_NAME,
    NO_CONSENT,
    NO_LIST_CHOSEN,
    TOO_MANY_REQUESTS,
    Translator,
    duration,
)
from coopmail.web.mail import Mail
from coopmail.web.public.site import PublicSite, list_choice
from coopmail.web.ratelimit import SlidingWindow
from coopmail.web.subscribe_mail import CONFIRM_PURPOSE
from subscribers.addresses import check_name, normalise_address
from subscribers.consent import (
    confirm_subscriptions,
    pending_confirmation,
    public_lists,
    request_subscription,
)
from subscribers.errors import InvalidAddress, InvalidField
from subscribers.languages import LANGUAGES
from subscribers.lists import list_words
from subscribers.models import MailingList, Subscriber

SUBSCRIBE_PER_IP = 10  # subscribe posts from one visitor's address...
SUBSCRIBE_IP_WINDOW = 10 * 60  # ...in ten minutes
SUBSCRIBE_PER_ADDRESS = 3  # mails asked for one e-mail address...
SUBSCRIBE_ADDRESS_WINDOW = 60 * 60  # ...in an hour
HONEYPOT = "website"


@dataclass(kw_only=True)
class SubscribeForm:
    email: str = ""
    name: str = ""
    language: str = ""
    lists: set[str] = field(default_factory=set)
    consent: bool = False


class SubscribePages:
    def __init__(self, site: PublicSite) -> None:
        self.site = site
        context = site.context
        self.per_ip = SlidingWindow(
            engine=context.engine,
            name="subscribe-network",
            limit=SUBSCRIBE_PER_IP,
            seconds=SUBSCRIBE_IP_WINDOW,
            clock=context.clock,
        )
        self.per_address = SlidingWindow(
            engine=context.engine,
            name="subscribe-address",
            limit=SUBSCRIBE_PER_ADDRESS,
            seconds=SUBSCRIBE_ADDRESS_WINDOW,
            clock=context.clock,
        )

    # Subscribe

    def subscribe_page(self, request: Request) -> Response:
        language = self.site.language(request)
        form = SubscribeForm(language=language, lists=set(request.query_params.getlist("list")))
        return self._form(request, language, form, errors={}, status=200)

    def subscribe(self, request: Request, form: FormData, language: str) -> Response:
        site = self.site
        client = request.client.host if request.client is not None else "unknown"
        visitor_key, visited_at = network_key(client), self.per_ip.now()
        visitor = self.per_ip.hit(visitor_key, now=visited_at)
        if not visitor.allowed:
            return site.message(
                request,
                language,
                TOO_MANY_REQUESTS,
                status=429,
                headers={"Retry-After": str(visitor.retry_after)},
            )
        values = SubscribeForm(
            email=text(form, "email").strip(),
            name=text(form, "name").strip(),
            language=text(form, "language").strip(),
            lists={value for value in form.getlist("lists") if isinstance(value, str)},
            consent=text(form, "consent") == "yes",
        )
        if text(form, HONEYPOT):
            return self._requested(request, language, values.email)  # a robot: same answer
        t = Translator(language)
        errors: dict[str, str] = {}
        email = name = ""
        try:
            email = normalise_address(values.email)
        except InvalidAddress:
            errors["email"] = t.gettext(INVALID_EMAIL)
        try:
            name = check_name(values.name)
        except InvalidField:
            errors["name"] = t.gettext(INVALID_NAME)
        if values.language not in LANGUAGES:
            errors["language"] = t.gettext(INVALID_LANGUAGE)
        with site.context.session(write=False) as session:
            offered = {ml.name for ml in public_lists(session)}
        if not values.lists or not values.lists <= offered:
            errors["lists"] = t.gettext(NO_LIST_CHOSEN)
        if not values.consent:
            errors["consent"] = t.gettext(NO_CONSENT)
        if errors:
            return self._form(request, language, values, errors=errors, status=422)
        tasks = BackgroundTasks()
        try:
            with site.context.session() as session:
                # Counted in the request's own transaction: if recording it fails (the
                # database is busy), the count goes with it. Past the per-address limit
                # the answer is the same and nothing is written or sent.
                mails: list[Mail] = []
                if self.per_address.hit(email, session=session).allowed:
                    mails = self._request(
                        session,
                        email=email,
                        name=name,
                        language=values.language,
                        list_names=values.lists,
                        wording=t.gettext(CONSENT_WORDING, unit=site.unit_name(language)),
                        ip_address=site.consent_ip(request),
                    )
        except Exception:
            self.per_ip.refund(visitor_key, at=visited_at)  # only requests that went through
            raise
        site.mails.send_later(tasks, mails)
        response = self._requested(request, language, values.email)
        response.background = tasks
        return response

    def _form(
        self,
        request: Request,
        language: str,
        form: SubscribeForm,
        *,
        errors: dict[str, str],
        status: int,
    ) -> Response:
        with self.site.context.session(write=False) as session:
            choices = [list_choice(ml, language=language) for ml in public_lists(session)]
        return self.site.pages.render(
            request,
            "subscribe.html",
            language=language,
            status=status,
            switch=True,
            lists=choices,
            form=form,
            errors=errors,
            wording=Translator(language).gettext(
                CONSENT_WORDING, unit=self.site.unit_name(language)
            ),
            honeypot=HONEYPOT,
        )

    def _request(
        self,
        session: Session,
        *,
        email: str,
        name: str,
        language: str,
        list_names: set[str],
        wording: str,
        ip_address: str | None,
    ) -> list[Mail]:
        """Record the request; the mails it calls for (a confirmation, a welcome, none)."""
        lists = list(
            session.scalars(
                select(MailingList)
                .where(MailingList.name.in_(list_names), MailingList.is_public)
                .order_by(MailingList.title)
            )
        )
        outcome = request_subscription(
            session,
            email=email,
            lists=lists,
            wording=wording,
            name=name or None,
            language=language,
            ip_address=ip_address,
        )
        subscriber = (
            session.get(Subscriber, outcome.subscriber_id)
            if outcome.subscriber_id is not None
            else None
        )
        if subscriber is None:
            return []
        return self.site.mails.after_subscribe(
            subscriber=subscriber,
            to_confirm=outcome.to_confirm,
            confirmed=outcome.confirmed,
            language=language,
        )

    def _requested(self, request: Request, language: str, email: str) -> Response:
        return self.site.pages.render(
            request,
            "requested.html",
            language=language,
            email=email[:TEXT_MAX],
            expires=duration(self.site.confirm_max_age, language),
        )

    # Confirm

    def _confirmation(self, request: Request) -> tuple[int, tuple[int, ...]] | None:
        values = self.site.token_values(
            request, purpose=CONFIRM_PURPOSE, count=None, max_age=self.site.confirm_max_age
        )
        if values is None or len(values) < 2:
            return None
        return values[0], values[1:]

    def confirm_page(self, request: Request) -> Response:
        """Shows the lists and a button; opening the link alone confirms nothing."""
        site = self.site
        found_token = self._confirmation(request)
        if found_token is None:
            return site.invalid(request, site.language(request))
        subscriber_id, list_ids = found_token
        with site.context.session(write=False) as session:
            found = pending_confirmation(session, subscriber_id=subscriber_id, list_ids=list_ids)
            if found is None:
                return site.invalid(request, site.language(request))
            subscriber, pending, already = found
            language = site.language(request, subscriber.language)
            if not pending:
                return self._confirmed(request, language, subscriber, already, welcome=False)
            return site.pages.render(
                request,
                "confirm.html",
                language=language,
                switch=True,
                email=subscriber.email,
                lists=[list_words(ml, language=language).title for ml in pending],
            )

    def confirm(self, request: Request, form: FormData, language: str) -> Response:
        site = self.site
        found_token = self._confirmation(request)
        if found_token is None:
            return site.invalid(request, language)
        subscriber_id, list_ids = found_token
        tasks = BackgroundTasks()
        with site.context.session() as session:
            confirmation = confirm_subscriptions(
                session,
                subscriber_id=subscriber_id,
                list_ids=list_ids,
                wording=Translator(language).gettext(CONFIRM_BUTTON),
                ip_address=site.consent_ip(request),
            )
            if confirmation is None:
                return site.invalid(request, language)
            subscriber = confirmation.subscriber
            if confirmation.confirmed:
                welcome = site.mails.welcome(
                    subscriber=subscriber, lists=confirmation.confirmed, language=language
                )
                site.mails.send_later(tasks, [welcome])
            response = self._confirmed(
                request,
                language,
                subscriber,
                confirmation.confirmed + confirmation.already,
                welcome=bool(confirmation.confirmed),
            )
        response.background = tasks
        return response

    def _confirmed(
        self,
        request: Request,
        language: str,
        subscriber: Subscriber,
        lists: list[MailingList],
        *,
        welcome: bool,
    ) -> Response:
        return self.site.pages.render(
            request,
            "confirmed.html",
            language=language,
            email=subscriber.email,
            lists=sorted(list_words(ml, language=language).title for ml in lists),
            welcome=welcome,
            preferences_url=self.site.preferences_url(subscriber.id, language),
        )
