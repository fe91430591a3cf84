"""``/u/{token}``: the unsubscribe link of every mail, RFC 8058 one-click, and coming back.

Opening the link shows a button and changes nothing, because mail scanners open links. A
POST of ``List-Unsubscribe=One-Click`` (a mail program acting for the person, RFC 8058) needs
no cookie or CSRF token, answers 200 without a redirect and may be repeated; any other POST
is a form and needs its CSRF token.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from campaigns.links import UNSUBSCRIBE
from coopmail.web.csrf import FIELD
from coopmail.web.forms import text
from coopmail.web.i18n import (
    FORM_EXPIRED,
    FORM_UNREADABLE,
    RESUBSCRIBE_BUTTON,
    UNSUBSCRIBE_ALL_BUTTON,
    UNSUBSCRIBE_BUTTON,
    Translator,
)
from coopmail.web.public.site import PublicSite
from subscribers.consent import leave, rejoin
from subscribers.errors import AddressSuppressed
from subscribers.lists import list_words
from subscribers.models import MailingList, Subscriber, SubscriptionStatus

ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
ONE_CLICK_WORDING = "List-Unsubscribe=One-Click (RFC 8058), sent by the mail program"


class UnsubscribePages:
    def __init__(self, site: PublicSite) -> None:
        self.site = site

    def _found(self, session: Session, request: Request) -> tuple[Subscriber, MailingList] | None:
        values = self.site.token_values(request, purpose=UNSUBSCRIBE, count=3)
        if values is None:
            return None
        subscriber_id, list_id, _campaign_id = values
        subscriber = session.get(Subscriber, subscriber_id)
        mailing_list = session.get(MailingList, list_id)
        if subscriber is None or mailing_list is None:
            return None
        return subscriber, mailing_list

    def unsubscribe_page(self, request: Request) -> Response:
        site = self.site
        with site.context.session(write=False) as session:
            found = self._found(session, request)
            if found is None:
                return site.invalid(request, site.language(request))
            subscriber, mailing_list = found
            language = site.language(request, subscriber.language)
            status = next(
                (s.status for s in subscriber.subscriptions if s.list_id == mailing_list.id), None
            )
            return site.pages.render(
                request,
                "unsubscribe.html",
                language=language,
                switch=True,
                email=subscriber.email,
                list_title=list_words(mailing_list, language=language).title,
                subscribed=status is not None and status is not SubscriptionStatus.UNSUBSCRIBED,
                preferences_url=site.preferences_url(subscriber.id, language),
            )

    def unsubscribe(self, request: Request, form: FormData, language: str) -> Response:
        """The form's buttons (this list, or every list) and the one-click POST."""
        site = self.site
        one_click = text(form, ONE_CLICK_FIELD) == ONE_CLICK_VALUE
        if not one_click and not site.csrf.valid(request, text(form, FIELD)):
            return site.message(request, language, FORM_EXPIRED, status=403)
        scope = "list" if one_click else text(form, "scope")
        if scope not in ("list", "all"):
            return site.message(request, language, FORM_UNREADABLE, status=400)
        t = Translator(language)
        with site.context.session() as session:
            found = self._found(session, request)
            if found is None:
                return site.invalid(request, language)
            subscriber, mailing_list = found
            if one_click:
                wording = ONE_CLICK_WORDING
            else:
                button = UNSUBSCRIBE_BUTTON if scope == "list" else UNSUBSCRIBE_ALL_BUTTON
                wording = t.gettext(button)
            leave(
                session,
                subscriber=subscriber,
                mailing_list=mailing_list if scope == "list" else None,
                wording=wording,
                ip_address=site.consent_ip(request),
            )
            # 200 and the page itself: RFC 8058 wants no redirect for the one-click POST.
            return site.pages.render(
                request,
                "unsubscribed.html",
                language=language,
                email=subscriber.email,
                list_title=list_words(mailing_list, language=language).title,
                everything=scope == "all",
                resubscribe_action=f"{request.url.path}/resubscribe?lang={language}",
            )

    def resubscribe(self, request: Request, form: FormData, language: str) -> Response:
        site = self.site
        with site.context.session() as session:
            found = self._found(session, request)
            if found is None:
                return site.invalid(request, language)
            subscriber, mailing_list = found
            try:
                rejoin(
                    session,
                    subscriber=subscriber,
                    mailing_list=mailing_list,
                    wording=Translator(language).gettext(
                        RESUBSCRIBE_BUTTON, list=list_words(mailing_list, language=language).title
                    ),
                    ip_address=site.consent_ip(request),
                )
            except AddressSuppressed:
                return site.blocked(request, language)
            return site.pages.render(
                request,
                "resubscribed.html",
                language=language,
                email=subscriber.email,
                list_title=list_words(mailing_list, language=language).title,
                preferences_url=site.preferences_url(subscriber.id, language),
            )
