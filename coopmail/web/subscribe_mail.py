"""The mails a subscription calls for, whether the public form or the JSON API asked.

A subscription waiting for double opt-in gets the confirmation request, with a signed link
that expires; one confirmed at once gets the welcome. Both ways in build them here and hand
them to the same Postman, so a person gets the same mail whichever way they came.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.background import BackgroundTasks

from campaigns.links import Links
from coopmail.web.mail import CONFIRM, WELCOME, Mail, Postman
from subscribers.languages import writing_language
from subscribers.lists import list_words
from subscribers.models import MailingList, Subscriber
from subscribers.tokens import make_token

CONFIRM_PURPOSE = "confirm"


def preferences_url(links: Links, *, subscriber_id: int, language: str) -> str:
    """The preferences page, opened in ``language``."""
    return f"{links.preferences(subscriber_id=subscriber_id)}?lang={language}"


class SubscriptionMails:
    """Builds the mails; ``links`` (for no campaign) gives every link's key and address."""

    def __init__(self, *, confirm_max_age: int, links: Links, postman: Postman) -> None:
        self.confirm_max_age = confirm_max_age
        self.links = links
        self.postman = postman

    def after_subscribe(
        self,
        *,
        subscriber: Subscriber,
        to_confirm: Sequence[MailingList],
        confirmed: Sequence[MailingList],
        language: str | None,
    ) -> list[Mail]:
        """One confirmation request for every list awaiting it, one welcome for every list
        joined at once; ``language`` is the fallback when the person has none."""
        mails = []
        if to_confirm:
            token = make_token(
                key=self.links.key,
                purpose=CONFIRM_PURPOSE,
                values=(subscriber.id, *(ml.id for ml in to_confirm)),
                issued_at=int(time.time()),
            )
            written_in = writing_language(subscriber.language or language)
            mails.append(
                Mail(
                    template=CONFIRM,
                    email=subscriber.email,
                    name=subscriber.name,
                    language=written_in,
                    list_titles=_titles(to_confirm, written_in),
                    urls={"confirm_url": f"{self.links.base_url}/confirm/{token}"},
                    expires_in_seconds=self.confirm_max_age,
                )
            )
        if confirmed:
            mails.append(self.welcome(subscriber=subscriber, lists=confirmed, language=language))
        return mails

    def welcome(
        self, *, subscriber: Subscriber, lists: Sequence[MailingList], language: str | None
    ) -> Mail:
        """In the person's language, which the preferences link then opens in too. Its
        unsubscribe link names the first list; that page offers to leave them all."""
        written_in = writing_language(subscriber.language or language)
        token = self.links.unsubscribe_token(subscriber_id=subscriber.id, list_id=lists[0].id)
        return Mail(
            template=WELCOME,
            email=subscriber.email,
            name=subscriber.name,
            language=written_in,
            list_titles=_titles(lists, written_in),
            urls={
                "preferences_url": preferences_url(
                    self.links, subscriber_id=subscriber.id, language=written_in
                ),
                "unsubscribe_url": self.links.unsubscribe(token=token),
            },
            unsubscribe_token=token,
        )

    def send_later(self, tasks: BackgroundTasks, mails: Sequence[Mail]) -> None:
        """Queue ``mails`` to leave after the response; a failure is logged, never raised."""
        for mail in mails:
            tasks.add_task(self.postman.send, mail)


def _titles(lists: Sequence[MailingList], language: str) -> tuple[str, ...]:
    """The lists' titles as the mail says them, in its language."""
    return tuple(list_words(ml, language=language).title for ml in lists)
