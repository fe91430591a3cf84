"""``/p/{token}``: lists, name and language; the person's data to download, or to erase."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from campaigns.links import PREFERENCES
from coopmail.db import forget_erased
from coopmail.ids import row_id
from coopmail.web.forms import text
from coopmail.web.i18n import (
    ERASE_NOT_CONFIRMED,
    INVALID_LANGUAGE,
    INVALID_NAME,
    NO_LIST_CHOSEN,
    SAVE_PREFERENCES_BUTTON,
    Translator,
)
from coopmail.web.public.site import PublicSite, list_choice
from subscribers.addresses import check_name
from subscribers.consent import offered_lists, update_preferences
from subscribers.errors import AddressSuppressed, InvalidField
from subscribers.languages import LANGUAGES, language_name
from subscribers.models import Subscriber, SubscriptionStatus, SuppressionReason
from subscribers.people import erase_subscriber, personal_data
from subscribers.suppressions import find_suppression


class PreferencePages:
    def __init__(self, site: PublicSite) -> None:
        self.site = site

    def _subscriber(self, session: Session, request: Request) -> Subscriber | None:
        values = self.site.token_values(
            request,
            purpose=PREFERENCES,
            count=1,
            max_age=self.site.context.settings.preferences_max_age,
        )
        return session.get(Subscriber, values[0]) if values is not None else None

    def preferences_page(self, request: Request) -> Response:
        site = self.site
        with site.context.session(write=False) as session:
            subscriber = self._subscriber(session, request)
            if subscriber is None:
                return site.invalid(request, site.language(request))
            language = site.language(request, subscriber.language)
            return self._page(request, session, subscriber, language, switch=True)

    def save(self, request: Request, form: FormData, language: str) -> Response:
        site = self.site
        t = Translator(language)
        with site.context.session() as session:
            subscriber = self._subscriber(session, request)
            if subscriber is None:
                return site.invalid(request, language)
            offered = {ml.id for ml in offered_lists(session, subscriber=subscriber)}
            chosen = {_list_id(value) for value in form.getlist("lists")}
            new_language = text(form, "language").strip()
            errors: dict[str, str] = {}
            if not chosen <= offered:
                errors["lists"] = t.gettext(NO_LIST_CHOSEN)
            if new_language not in (*LANGUAGES, subscriber.language or "", ""):
                errors["language"] = t.gettext(INVALID_LANGUAGE)
            name = ""
            try:
                name = check_name(text(form, "name"))
            except InvalidField:
                errors["name"] = t.gettext(INVALID_NAME)
            if errors:
                return self._page(request, session, subscriber, language, status=422, errors=errors)
            try:
                update_preferences(
                    session,
                    subscriber=subscriber,
                    name=name,
                    language=new_language,
                    wanted=chosen,
                    wording=t.gettext(SAVE_PREFERENCES_BUTTON),
                    ip_address=site.consent_ip(request),
                )
            except AddressSuppressed:
                session.rollback()
                return site.blocked(request, language)
            session.refresh(subscriber)
            return self._page(request, session, subscriber, language, saved=True)

    def export(self, request: Request, form: FormData, language: str) -> Response:
        """Everything held on the person, as JSON to keep (a GDPR access request)."""
        with self.site.context.session(write=False) as session:
            subscriber = self._subscriber(session, request)
            if subscriber is None:
                return self.site.invalid(request, language)
            data = personal_data(session, email=subscriber.email)
        return Response(
            json.dumps(data, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
        )

    def erase(self, request: Request, form: FormData, language: str) -> Response:
        """Erasure, once the person ticked the box: only a hashed suppression remains."""
        site = self.site
        with site.context.session() as session:
            subscriber = self._subscriber(session, request)
            if subscriber is None:
                return site.invalid(request, language)
            if text(form, "erase") != "yes":
                errors = {"erase": Translator(language).gettext(ERASE_NOT_CONFIRMED)}
                return self._page(request, session, subscriber, language, status=422, errors=errors)
            erase_subscriber(session, email=subscriber.email)
        forget_erased(site.context.engine)
        return site.pages.render(request, "erased.html", language=language)

    def _page(
        self,
        request: Request,
        session: Session,
        subscriber: Subscriber,
        language: str,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        saved: bool = False,
        switch: bool = False,
    ) -> Response:
        confirmed = {
            s.list_id for s in subscriber.subscriptions if s.status is SubscriptionStatus.CONFIRMED
        }
        choices = [
            list_choice(ml, language=language, checked=ml.id in confirmed)
            for ml in offered_lists(session, subscriber=subscriber)
        ]
        suppression = find_suppression(session, email=subscriber.email)
        languages = list(LANGUAGES)
        if subscriber.language and subscriber.language not in languages:
            languages.append(subscriber.language)
        return self.site.pages.render(
            request,
            "preferences.html",
            language=language,
            status=status,
            switch=switch,
            email=subscriber.email,
            name=subscriber.name,
            subscriber_language=subscriber.language or "",
            # A language we do not write in stays the person's choice until they change it.
            language_choices=[(code, language_name(code)) for code in languages],
            lists=choices,
            errors=errors or {},
            saved=saved,
            blocked=suppression is not None
            and suppression.reason is not SuppressionReason.UNSUBSCRIBED,
            action=f"/p/{request.path_params['token']}",
        )


def _list_id(value: object) -> int:
    """A list id from the form; -1 (never an id) for anything else."""
    found = row_id(value) if isinstance(value, str) else None
    return -1 if found is None else found
