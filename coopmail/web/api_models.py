"""What the JSON API accepts and returns; the constraints here are what its OpenAPI shows.

Input is bounded and screened for characters no database column or mail header may hold
(NUL, lone surrogates, and in single-line fields any control character), so bad input is
a 422 that names the field rather than a database error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from campaigns.content import MAX_CONTENT_BYTES
from campaigns.drafts import SUBJECT_MAX
from subscribers.lists import LIST_NAME_PATTERN
from subscribers.models import EMAIL_MAX, LANGUAGE_MAX, NAME_MAX

LIST_SLUG = f"^{LIST_NAME_PATTERN}$"
TEMPLATE_NAME = r"^[a-z0-9][a-z0-9_-]{0,99}$"
SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_ID = 2**63 - 1  # the largest key either database holds
MAX_OFFSET = 10**9
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_NUL_OR_SURROGATE = re.compile(r"[\x00\ud800-\udfff]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must be one line without control characters")
    return value


def _storable(value: str) -> str:
    if _NUL_OR_SURROGATE.search(value):
        raise ValueError("must not contain NUL characters or lone surrogates")
    return value


def _line(max_length: int, *, min_length: int = 0) -> Any:
    return Field(min_length=min_length, max_length=max_length)


Title = Annotated[str, _line(200), AfterValidator(_single_line)]
Description = Annotated[str, _line(2000), AfterValidator(_storable)]
Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX, json_schema_extra={"format": "email"}),
    AfterValidator(_single_line),
]
PersonName = Annotated[str, _line(NAME_MAX), AfterValidator(_single_line)]
Language = Annotated[str, _line(LANGUAGE_MAX), AfterValidator(_single_line)]
Subject = Annotated[str, _line(SUBJECT_MAX), AfterValidator(_single_line)]
Content = Annotated[str, _line(MAX_CONTENT_BYTES, min_length=1), AfterValidator(_storable)]
ListName = Annotated[str, Field(pattern=LIST_SLUG, examples=["partners"])]
SubscriptionStatusName = Literal["unconfirmed", "confirmed", "unsubscribed"]
NewStatus = Literal["confirmed", "unconfirmed"]
Status = Annotated[
    NewStatus | None,
    Field(
        default=None,
        description=(
            "Leave it out to let each list decide, as the public form does: on a double opt-in"
            " list, or one the person once left, the subscription stays `unconfirmed` and the"
            " person is sent the confirmation mail (its link confirms it, then the welcome"
            " follows); on a single opt-in list it is `confirmed` and the welcome is sent."
            " `confirmed` asserts that you hold proof of the person's consent, as an import"
            " does: nothing is sent. `unconfirmed` sends the confirmation mail on any list."
            " Mails leave after the response, in the person's language."
        ),
    ),
]
AttributeKey = Annotated[str, _line(100, min_length=1), AfterValidator(_single_line)]
AttributeValue = Annotated[str, _line(1000), AfterValidator(_single_line)]
Consent = Annotated[
    str | None,
    Field(
        default=None,
        max_length=500,
        description="How the person gave consent, kept in their consent record.",
    ),
    AfterValidator(lambda v: None if v is None else _single_line(v)),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["there is no campaign 7"])


class ErrorBody(BaseModel):
    """Every 4xx and 5xx of the API has this body."""

    error: ErrorDetail


# --- lists -----------------------------------------------------------------------------


class ListIn(_Strict):
    name: ListName
    title: Title | None = None
    description: Description = ""
    opt_in: Literal["single", "double"] = "double"
    public: bool = False


class ListOut(BaseModel):
    name: str
    title: str
    description: str
    opt_in: Literal["single", "double"]
    public: bool
    confirmed: int
    unconfirmed: int
    unsubscribed: int


class ListCollection(BaseModel):
    items: list[ListOut]
    total: int


# --- subscribers -----------------------------------------------------------------------


class SubscriberIn(_Strict):
    email: Email
    lists: list[ListName] = Field(min_length=1, max_length=50)
    name: PersonName | None = None
    language: Language | None = None
    attributes: dict[AttributeKey, AttributeValue] = Field(default_factory=dict, max_length=50)
    status: Status
    consent: Consent


class SubscriberPatch(_Strict):
    """Only the fields given change; an attribute set to null is removed."""

    name: PersonName | None = None
    language: Language | None = None
    attributes: dict[AttributeKey, AttributeValue | None] = Field(
        default_factory=dict, max_length=50
    )


class SubscriptionIn(_Strict):
    list: ListName
    status: Status
    consent: Consent


class SubscriptionOut(BaseModel):
    list: str
    status: SubscriptionStatusName
    created_at: datetime | None
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


class ConsentOut(BaseModel):
    at: datetime | None
    action: Literal["subscribe", "confirm", "unsubscribe"]
    source: Literal["form", "import", "api", "staff"]
    list: str | None
    wording: str
    ip_address: str | None


class SuppressionOut(BaseModel):
    reason: str
    note: str
    at: datetime | None


class BounceEventOut(BaseModel):
    id: int
    received_at: datetime
    kind: Literal["hard", "soft", "complaint", "unsubscribe"]
    email: str | None
    campaign_id: int | None
    delivery_id: int | None
    status: str | None
    diagnostic: str
    verified: bool
    suppressed: bool


class SubscriberOut(BaseModel):
    """Everything held on one person (what a GDPR access request gets)."""

    id: int
    email: str
    name: str
    language: str | None
    attributes: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None
    subscriptions: list[SubscriptionOut]
    consent_records: list[ConsentOut]
    suppression: SuppressionOut | None
    bounce_events: list[BounceEventOut] = Field(
        description="What the bounce mailbox said about the address, oldest first."
    )


class SubscriberSummary(BaseModel):
    id: int
    email: str
    name: str
    language: str | None
    status: SubscriptionStatusName | None = Field(
        description="The status on the list filtered by, else null."
    )
    created_at: datetime


class SubscriberPage(BaseModel):
    items: list[SubscriberSummary]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The URL of the next page, or null on the last one.")


class Erased(BaseModel):
    erased: bool = Field(description="Whether any personal data was held.")
    suppressed: Literal[True] = Field(description="The address is never mailed again.")


# --- campaigns -------------------------------------------------------------------------


class CampaignIn(_Strict):
    content: Content = Field(
        description="Markdown (or an HTML fragment) opening with a front-matter header "
        "(subject, template, lists...), as for `coopmail campaigns create --content`.",
    )
    format: Literal["markdown", "html"] = "markdown"
    name: str = Field(
        default="api",
        pattern=SOURCE_NAME,
        description="What error messages call the content, like a file name.",
    )
    template: str | None = Field(default=None, pattern=TEMPLATE_NAME)
    lists: list[ListName] | None = Field(default=None, min_length=1, max_length=50)
    subject: Subject | None = None


class DeliveryCounts(BaseModel):
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int
    total: int


CampaignStatusName = Literal["draft", "scheduled", "sending", "paused", "sent", "cancelled"]


class CampaignSummary(BaseModel):
    id: int
    subject: str
    template: str
    lists: list[str]
    status: CampaignStatusName
    scheduled_at: datetime | None
    created_at: datetime


class CampaignOut(CampaignSummary):
    preheader: str
    from_address: str
    reply_to: str | None
    language: str
    source: str
    status_reason: str | None
    updated_at: datetime
    counts: DeliveryCounts


class CampaignPage(BaseModel):
    items: list[CampaignSummary]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The URL of the next page, or null on the last one.")


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


class ScheduleIn(_Strict):
    at: Annotated[AwareDatetime, AfterValidator(_to_utc)] = Field(
        description="When to start sending, ISO 8601 with an offset: 2026-12-01T09:00:00+01:00."
    )
