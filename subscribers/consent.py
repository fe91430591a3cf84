"""What a person does for themselves: ask to subscribe, confirm, leave, come back, choose lists.

These are the use-cases behind the public pages. Each records consent the way the person
gave it; none trusts an unauthenticated request to change anything but a pending request,
so a form filled in with someone else's address can never change their name, language or
lists, only ask them (by mail) whether they want to join.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from subscribers.addresses import check_name, normalise_address
from subscribers.errors import AddressSuppressed
from subscribers.languages import check_language
from subscribers.models import (
    ConsentSource,
    MailingList,
    OptIn,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from subscribers.people import find_subscriber, subscribe, unsubscribe
from subscribers.suppressions import find_suppression, suppress, unsuppress

UNSUBSCRIBED_EVERYWHERE_NOTE = "unsubscribed from every list on the web page"


@dataclass(frozen=True, kw_only=True)
class SubscriptionRequest:
    """The outcome of a subscribe form: what to mail, and to whom (the id of the person)."""

    subscriber_id: int | None = None
    to_confirm: list[MailingList] = field(default_factory=list)
    confirmed: list[MailingList] = field(default_factory=list)
    suppressed: bool = False


@dataclass(frozen=True, kw_only=True)
class Confirmation:
    subscriber: Subscriber
    confirmed: list[MailingList]  # confirmed by this request
    already: list[MailingList]  # confirmed before: the link was used twice


@dataclass(frozen=True, kw_only=True)
class PreferenceChanges:
    joined: list[str]
    left: list[str]


def public_lists(session: Session) -> list[MailingList]:
    return list(
        session.scalars(
            select(MailingList).where(MailingList.is_public).order_by(MailingList.title)
        )
    )


def needs_confirmation(mailing_list: MailingList, *, previous: SubscriptionStatus | None) -> bool:
    """Whether a subscription nobody vouched for waits for the person to confirm it by mail:
    on a double opt-in list, and on any list they once left, whatever its opt-in."""
    return mailing_list.opt_in is OptIn.DOUBLE or previous is SubscriptionStatus.UNSUBSCRIBED


def request_subscription(
    session: Session,
    *,
    email: str,
    lists: list[MailingList],
    wording: str,
    name: str | None = None,
    language: str | None = None,
    ip_address: str | None = None,
) -> SubscriptionRequest:
    """Subscribe from a public form.

    Double opt-in lists get a pending subscription to be confirmed by mail; so does any
    list the person once left, whatever its opt-in, because a form anyone can fill in is
    not proof that they want to come back. Single opt-in lists are confirmed at once. A
    suppressed address is left alone. Name and language are only taken for a new person.
    """
    email = normalise_address(email)
    if find_suppression(session, email=email) is not None:
        return SubscriptionRequest(suppressed=True)
    existing = find_subscriber(session, email=email)
    statuses = subscription_statuses(session, existing)
    to_confirm: list[MailingList] = []
    confirmed: list[MailingList] = []
    subscriber_id = existing.id if existing is not None else None
    for mailing_list in lists:
        status = statuses.get(mailing_list.id)
        if status is SubscriptionStatus.CONFIRMED:
            continue
        pending = needs_confirmation(mailing_list, previous=status)
        result = subscribe(
            session,
            email=email,
            mailing_list=mailing_list,
            source=ConsentSource.FORM,
            wording=wording,
            status=SubscriptionStatus.UNCONFIRMED if pending else SubscriptionStatus.CONFIRMED,
            name=name if existing is None else None,
            language=language if existing is None else None,
            ip_address=ip_address,
        )
        subscriber_id = result.subscriber.id
        (to_confirm if pending else confirmed).append(mailing_list)
    return SubscriptionRequest(
        subscriber_id=subscriber_id, to_confirm=to_confirm, confirmed=confirmed
    )


def pending_confirmation(
    session: Session, *, subscriber_id: int, list_ids: Iterable[int]
) -> tuple[Subscriber, list[MailingList], list[MailingList]] | None:
    """(person, lists awaiting their confirmation, lists already confirmed), or None when
    the link no longer leads anywhere (person erased or suppressed, nothing to confirm)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or find_suppression(session, email=subscriber.email) is not None:
        return None
    wanted = set(list_ids)
    pending: list[MailingList] = []
    already: list[MailingList] = []
    for subscription in subscriber.subscriptions:
        if subscription.list_id not in wanted:
            continue
        if subscription.status is SubscriptionStatus.UNCONFIRMED:
            pending.append(subscription.mailing_list)
        elif subscription.status is SubscriptionStatus.CONFIRMED:
            already.append(subscription.mailing_list)
    if not pending and not already:
        return None
    return subscriber, _by_title(pending), _by_title(already)


def confirm_subscriptions(
    session: Session,
    *,
    subscriber_id: int,
    list_ids: Iterable[int],
    wording: str,
    ip_address: str | None = None,
) -> Confirmation | None:
    """Confirm the pending subscriptions a confirmation link names; repeating is harmless."""
    found = pending_confirmation(session, subscriber_id=subscriber_id, list_ids=list_ids)
    if found is None:
        return None
    subscriber, pending, already = found
    for mailing_list in pending:
        subscribe(
            session,
            email=subscriber.email,
            mailing_list=mailing_list,
            source=ConsentSource.FORM,
            wording=wording,
            status=SubscriptionStatus.CONFIRMED,
            ip_address=ip_address,
        )
    return Confirmation(subscriber=subscriber, confirmed=pending, already=already)


def leave(
    session: Session,
    *,
    subscriber: Subscriber,
    mailing_list: MailingList | None,
    wording: str,
    source: ConsentSource = ConsentSource.FORM,
    ip_address: str | None = None,
) -> list[str]:
    """Unsubscribe from one list, or (``mailing_list`` None) from every list and suppress the
    address, so that no import or form puts it back without the person's own click."""
    changed = unsubscribe(
        session,
        subscriber=subscriber,
        lists=[mailing_list] if mailing_list is not None else None,
        source=source,
        wording=wording,
        ip_address=ip_address,
    )
    if mailing_list is None:
        suppress(
            session,
            email=subscriber.email,
            reason=SuppressionReason.UNSUBSCRIBED,
            note=UNSUBSCRIBED_EVERYWHERE_NOTE,
        )
    return changed


def rejoin(
    session: Session,
    *,
    subscriber: Subscriber,
    mailing_list: MailingList,
    wording: str,
    ip_address: str | None = None,
) -> bool:
    """Subscribe again, confirmed, on the person's own signed link: the link proves the
    mailbox. Lifts an unsubscribe-from-everything suppression (the person's own choice),
    never a bounce, complaint or erasure (AddressSuppressed). Returns whether it changed."""
    _lift_own_suppression(session, email=subscriber.email)
    result = subscribe(
        session,
        email=subscriber.email,
        mailing_list=mailing_list,
        source=ConsentSource.FORM,
        wording=wording,
        status=SubscriptionStatus.CONFIRMED,
        ip_address=ip_address,
    )
    return result.status_changed


def offered_lists(session: Session, *, subscriber: Subscriber) -> list[MailingList]:
    """What a preferences page offers: the public lists and any list the person is on."""
    active = select(Subscription.list_id).where(
        Subscription.subscriber_id == subscriber.id,
        Subscription.status != SubscriptionStatus.UNSUBSCRIBED,
    )
    return list(
        session.scalars(
            select(MailingList)
            .where(or_(MailingList.is_public, MailingList.id.in_(active)))
            .order_by(MailingList.title)
        )
    )


def update_preferences(
    session: Session,
    *,
    subscriber: Subscriber,
    name: str,
    language: str,
    wanted: set[int],
    wording: str,
    ip_address: str | None = None,
) -> PreferenceChanges:
    """Set name, language and which of the offered lists the person receives."""
    subscriber.name = check_name(name)
    subscriber.language = check_language(language)
    statuses = subscription_statuses(session, subscriber)
    joined: list[str] = []
    left: list[MailingList] = []
    for mailing_list in offered_lists(session, subscriber=subscriber):
        status = statuses.get(mailing_list.id)
        if mailing_list.id in wanted and status is not SubscriptionStatus.CONFIRMED:
            rejoin(
                session,
                subscriber=subscriber,
                mailing_list=mailing_list,
                wording=wording,
                ip_address=ip_address,
            )
            joined.append(mailing_list.name)
        elif mailing_list.id not in wanted and status in (
            SubscriptionStatus.CONFIRMED,
            SubscriptionStatus.UNCONFIRMED,
        ):
            left.append(mailing_list)
    left_names = (
        unsubscribe(
            session,
            subscriber=subscriber,
            lists=left,
            source=ConsentSource.FORM,
            wording=wording,
            ip_address=ip_address,
        )
        if left
        else []
    )
    session.flush()
    return PreferenceChanges(joined=sorted(joined), left=left_names)


def _lift_own_suppression(session: Session, *, email: str) -> None:
    suppression = find_suppression(session, email=email)
    if suppression is None:
        return
    if suppression.reason is not SuppressionReason.UNSUBSCRIBED:
        raise AddressSuppressed(email, suppression.reason.value)
    unsuppress(session, email=email)


def subscription_statuses(
    session: Session, subscriber: Subscriber | None
) -> dict[int, SubscriptionStatus]:
    """List id to status, read from the database rather than the relationship, which a
    subscribe in the same session would leave stale."""
    if subscriber is None:
        return {}
    rows = session.execute(
        select(Subscription.list_id, Subscription.status).where(
            Subscription.subscriber_id == subscriber.id
        )
    )
    return {row.list_id: row.status for row in rows}


def _by_title(lists: list[MailingList]) -> list[MailingList]:
    return sorted(lists, key=lambda mailing_list: mailing_list.title)
