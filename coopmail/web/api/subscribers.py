"""/api/v1/subscribers: people, their subscriptions, and erasure on request (GDPR).

No `from __future__ import annotations` here: FastAPI must see the routes' annotations
evaluated, since they name the caller dependency local to each router factory.
"""

import contextlib
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from campaigns.bounces import subscriber_events
from coopmail.apikeys import ApiKey
from coopmail.db import forget_erased
from coopmail.ids import ID_MAX, row_id
from coopmail.web.api.errors import ApiError, ApiRoute, error_responses
from coopmail.web.api.models import (
    LIST_SLUG,
    MAX_OFFSET,
    Erased,
    NewStatus,
    SubscriberIn,
    SubscriberOut,
    SubscriberPage,
    SubscriberPatch,
    SubscriberSummary,
    SubscriptionIn,
    SubscriptionStatusName,
)
from coopmail.web.context import WebContext
from coopmail.web.subscribe_mail import SubscriptionMails
from subscribers.addresses import normalise_address
from subscribers.consent import needs_confirmation, subscription_statuses
from subscribers.errors import InvalidAddress
from subscribers.lists import get_list
from subscribers.models import (
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriptionStatus,
)
from subscribers.people import (
    Subscribed,
    erase_subscriber,
    find_subscriber,
    personal_data,
    subscribe,
    unsubscribe,
    update_subscriber,
)
from subscribers.search import PeopleQuery, after_offset, count_people, search_people

Reference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=254,
        description="The subscriber's id, or their e-mail address.",
        examples=["42", "ada@example.org"],
    ),
]
ListPath = Annotated[str, Path(pattern=LIST_SLUG, description="The list's name.")]


def _find(session: Session, reference: str) -> Subscriber:
    """The subscriber a path names, by id (digits) or by address."""
    subscriber = None
    if reference.isdecimal() and reference.isascii():
        if (subscriber_id := row_id(reference)) is not None:
            subscriber = session.get(Subscriber, subscriber_id)
    else:
        with contextlib.suppress(InvalidAddress):  # no one has it: the same 404
            subscriber = find_subscriber(session, email=reference)
    if subscriber is None:
        raise ApiError(404, "not_found", f"there is no subscriber {reference!r}")
    return subscriber


def _address_of(session: Session, reference: str) -> str:
    """The address a path names: a subscriber's by id, or the address itself, known or not
    (erasure works for an address never subscribed); not an address: a 404 like any."""
    if reference.isdecimal() and reference.isascii():
        return _find(session, reference).email
    try:
        return normalise_address(reference)
    except InvalidAddress:
        raise ApiError(404, "not_found", f"there is no subscriber {reference!r}") from None


def _detail(session: Session, subscriber: Subscriber) -> SubscriberOut:
    """What `coopmail subscribers show` gives: the address book's record and the bounce
    events campaigns hold, which the subscribers package cannot know of."""
    return SubscriberOut.model_validate(
        {
            "id": subscriber.id,
            **personal_data(session, email=subscriber.email),
            "bounce_events": subscriber_events(session, subscriber_id=subscriber.id),
        }
    )


def _wording(consent: str | None, key: ApiKey, default: str) -> str:
    return f"{consent or default} (API key {key.name!r})"


def _subscribe(
    session: Session,
    *,
    mails: SubscriptionMails,
    tasks: BackgroundTasks,
    email: str,
    lists: list[MailingList],
    status: NewStatus | None,
    wording: str,
    name: str | None = None,
    language: str | None = None,
    attributes: dict[str, str] | None = None,
) -> Subscribed:
    """Subscribe to each list (the first outcome is returned) and queue on ``tasks`` the
    mails the public form would send; tasks run once the response is out, so a request
    that fails sends nothing.

    Without a status the list decides, as on the form, so the API cannot skip double
    opt-in: a pending subscription gets the confirmation request, one confirmed at once
    the welcome. A status given is the caller's word: `confirmed` asserts they hold the
    person's consent, as an import does, and mails nothing; `unconfirmed` asks for it.
    """
    previous = subscription_statuses(session, find_subscriber(session, email=email))
    results: list[Subscribed] = []
    to_confirm: list[MailingList] = []
    welcomed: list[MailingList] = []
    for mailing_list in lists:
        if status is not None:
            chosen = SubscriptionStatus(status)
        elif needs_confirmation(mailing_list, previous=previous.get(mailing_list.id)):
            chosen = SubscriptionStatus.UNCONFIRMED
        else:
            chosen = SubscriptionStatus.CONFIRMED
        result = subscribe(
            session,
            email=email,
            mailing_list=mailing_list,
            source=ConsentSource.API,
            wording=wording,
            status=chosen,
            name=name,
            language=language,
            attributes=attributes,
        )
        results.append(result)
        if result.subscription.status is SubscriptionStatus.UNCONFIRMED:
            to_confirm.append(mailing_list)
        elif status is None and result.status_changed:
            welcomed.append(mailing_list)
    found = mails.after_subscribe(
        subscriber=results[0].subscriber, to_confirm=to_confirm, confirmed=welcomed, language=None
    )
    mails.send_later(tasks, found)
    return results[0]


def subscribers_router(
    context: WebContext, caller: Callable[..., ApiKey], mails: SubscriptionMails
) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["subscribers"])
    Caller = Annotated[ApiKey, Depends(caller)]

    @router.get("/subscribers", responses=error_responses(404))
    def get_subscribers(
        *,
        request: Request,
        list_name: Annotated[
            str | None,
            Query(alias="list", pattern=LIST_SLUG, description="Only subscribers of this list."),
        ] = None,
        status: Annotated[
            SubscriptionStatusName | None,
            Query(
                description="Only subscribers with this status on `list`, or without `list`"
                " on any list."
            ),
        ] = None,
        search: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=r"^[^\x00-\x1f\x7f]*$",
                description="Part of an address or name.",
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        after: Annotated[
            int | None,
            Query(
                ge=1,
                le=ID_MAX,
                description="The cursor `next` carries: the id of the last subscriber seen.",
            ),
        ] = None,
        offset: Annotated[
            int,
            Query(
                ge=0,
                le=MAX_OFFSET,
                deprecated=True,
                description="Deprecated: follow `next` (a cursor) instead. Skips this many.",
            ),
        ] = 0,
    ) -> SubscriberPage:
        """Subscribers, newest first, a page at a time (follow `next`)."""
        with context.session(write=False) as session:
            mailing_list = get_list(session, name=list_name) if list_name else None
            query = PeopleQuery(
                text=search or "",
                text_anywhere=True,
                list_id=mailing_list.id if mailing_list is not None else None,
                status=SubscriptionStatus(status) if status else None,
            )
            if after is None:
                after = after_offset(session, query=query, offset=offset)
            page = search_people(session, query=query, after=after, limit=limit)
            total = count_people(session, query=query, cap=None).count
        items = [
            SubscriberSummary(
                id=row.id,
                email=row.email,
                name=row.name,
                language=row.language,
                status=row.status,  # type: ignore[arg-type]  # a SubscriptionStatus value
                created_at=row.created_at,
            )
            for row in page.rows
        ]
        next_url = None
        if page.next_after is not None:
            following = {
                key: value for key, value in request.query_params.items() if key != "offset"
            }
            following.update(limit=str(limit), after=str(page.next_after))
            next_url = f"{request.url.path}?{urlencode(following)}"
        return SubscriberPage(items=items, total=total, limit=limit, offset=offset, next=next_url)

    @router.get("/subscribers/{reference}", responses=error_responses(404))
    def get_subscriber(reference: Reference) -> SubscriberOut:
        """Everything held on one person: subscriptions, consent records, suppression."""
        with context.session(write=False) as session:
            return _detail(session, _find(session, reference))

    @router.post(
        "/subscribers",
        status_code=201,
        responses={
            200: {"model": SubscriberOut, "description": "An existing subscriber, updated"},
            **error_responses(404, 409),
        },
    )
    def post_subscriber(
        body: SubscriberIn, key: Caller, response: Response, tasks: BackgroundTasks
    ) -> SubscriberOut:
        """Subscribe a person to lists (creating them if new), recording consent as `api`.

        201 for a new person, 200 for one already known; 409 if the address is suppressed.
        Mails (see `status`) leave after the response.
        """
        with context.session() as session:
            lists = [get_list(session, name=name) for name in dict.fromkeys(body.lists)]
            first = _subscribe(
                session,
                mails=mails,
                tasks=tasks,
                email=body.email,
                lists=lists,
                status=body.status,
                wording=_wording(body.consent, key, "Subscribed through the API"),
                name=body.name,
                language=body.language,
                attributes=body.attributes,
            )
            detail = _detail(session, first.subscriber)
        if first.created:
            response.headers["Location"] = f"/api/v1/subscribers/{detail.id}"
        else:
            response.status_code = 200
        return detail

    @router.patch("/subscribers/{reference}", responses=error_responses(404))
    def patch_subscriber(reference: Reference, body: SubscriberPatch) -> SubscriberOut:
        """Change the name, language or attributes (null removes an attribute)."""
        with context.session() as session:
            subscriber = update_subscriber(
                session,
                subscriber=_find(session, reference),
                name=(body.name or "") if "name" in body.model_fields_set else None,
                language=(body.language or "") if "language" in body.model_fields_set else None,
                attributes=body.attributes,
            )
            return _detail(session, subscriber)

    @router.delete("/subscribers/{reference}", responses=error_responses(404))
    def delete_subscriber(reference: Reference) -> Erased:
        """Erase everything held on the person (GDPR); the address stays suppressed,
        as a hash, so it is never mailed again. By address, this works even for
        an address that was never subscribed."""
        with context.session() as session:
            held = erase_subscriber(session, email=_address_of(session, reference))
        forget_erased(context.engine)
        return Erased(erased=held, suppressed=True)

    return router


def subscriptions_router(
    context: WebContext, caller: Callable[..., ApiKey], mails: SubscriptionMails
) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["subscriptions"])
    Caller = Annotated[ApiKey, Depends(caller)]

    @router.post("/subscribers/{reference}/subscriptions", responses=error_responses(404, 409))
    def post_subscription(
        reference: Reference, body: SubscriptionIn, key: Caller, tasks: BackgroundTasks
    ) -> SubscriberOut:
        """Subscribe a known person to one more list; mails (see `status`) leave after
        the response."""
        with context.session() as session:
            subscriber = _find(session, reference)
            _subscribe(
                session,
                mails=mails,
                tasks=tasks,
                email=subscriber.email,
                lists=[get_list(session, name=body.list)],
                status=body.status,
                wording=_wording(body.consent, key, "Subscribed through the API"),
            )
            return _detail(session, subscriber)

    @router.delete(
        "/subscribers/{reference}/subscriptions/{list_name}", responses=error_responses(404)
    )
    def delete_subscription(
        reference: Reference, list_name: ListPath, key: Caller
    ) -> SubscriberOut:
        """Unsubscribe the person from one list (repeating it changes nothing)."""
        with context.session() as session:
            subscriber = _find(session, reference)
            mailing_list = get_list(session, name=list_name)
            if not any(s.list_id == mailing_list.id for s in subscriber.subscriptions):
                raise ApiError(
                    404, "not_found", f"{subscriber.email} is not subscribed to {list_name}"
                )
            unsubscribe(
                session,
                subscriber=subscriber,
                lists=[mailing_list],
                source=ConsentSource.API,
                wording=_wording(None, key, "Unsubscribed through the API"),
            )
            return _detail(session, subscriber)

    return router
