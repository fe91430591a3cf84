"""What the JSON API accepts and returns; the constraints here are what its OpenAPI shows.

Input is bounded and screened for characters no database column or mail header may hold
(NUL, lone surrogates, and in single-line fields any control character), so bad input is
a 422 that names the field rather than a database error.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from campaigns.content import MAX_CONTENT_BYTES
from campaigns.drafts import SUBJECT_MAX
from subscribers.lists import LIST_NAME_PATTERN
from subscribers.models import EMAIL_MAX, LANGUAGE_MAX, NAME_MAX, TIME_ZONE_MAX
from subscribers.timezones import read_time_zone, time_zone_names

LIST_SLUG = f"^{LIST_NAME_PATTERN}$"
TEMPLATE_NAME = r"^[a-z0-9][a-z0-9_-]{0,99}$"
SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
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


# The same rules as patterns in the OpenAPI document, so that what it calls valid is what
# the API accepts (the validators above keep their own, clearer messages).
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
STORABLE = r"^[^\x00]*$"


def _line(max_length: int, *, min_length: int = 0) -> Any:
    return Field(
        min_length=min_length, max_length=max_length, json_schema_extra={"pattern": SINGLE_LINE}
    )


def _text(max_length: int, *, min_length: int = 0) -> Any:
    return Field(
        min_length=min_length, max_length=max_length, json_schema_extra={"pattern": STORABLE}
    )


Title = Annotated[str, _line(200), AfterValidator(_single_line)]
Description = Annotated[str, _text(2000), AfterValidator(_storable)]
Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX, json_schema_extra={"format": "email", "pattern": SINGLE_LINE}),
    AfterValidator(_single_line),
]
PersonName = Annotated[str, _line(NAME_MAX), AfterValidator(_single_line)]
Language = Annotated[str, _line(LANGUAGE_MAX), AfterValidator(_single_line)]


def _time_zone(value: str) -> str:
    name = read_time_zone(value)
    if name is None:
        raise ValueError("must be an IANA time zone name such as Europe/Paris")
    return name


# The document lists every zone name, so that what it calls valid the API accepts.
TimeZoneName = Annotated[
    str,
    Field(max_length=TIME_ZONE_MAX, json_schema_extra={"enum": sorted(time_zone_names())}),
    AfterValidator(_time_zone),
]
Subject = Annotated[str, _line(SUBJECT_MAX), AfterValidator(_single_line)]
Content = Annotated[str, _text(MAX_CONTENT_BYTES, min_length=1), AfterValidator(_storable)]
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
# Keys carry no pattern of their own (pydantic would write it as patternProperties, which
# restricts nothing); ATTRIBUTE_NAMES says it in the document instead.
AttributeKey = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_single_line)]
ATTRIBUTE_NAMES: JsonDict = {
    "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": SINGLE_LINE}
}
AttributeValue = Annotated[str, _line(1000), AfterValidator(_single_line)]
Consent = Annotated[
    str | None,
    Field(
        default=None,
        max_length=500,
        description="How the person gave consent, kept in their consent record.",
        json_schema_extra={"pattern": SINGLE_LINE},
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
    timezone: TimeZoneName | None = Field(
        default=None,
        description="The IANA time zone its subscribers live in when they gave none "
        "(Europe/Paris): a campaign sent at a local hour reaches them at that hour there. "
        "Default: the unit's zone.",
    )


class ListOut(BaseModel):
    name: str
    title: str
    description: str
    opt_in: Literal["single", "double"]
    public: bool
    confirmed: int
    unconfirmed: int
    unsubscribed: int
    timezone: str | None = None


class ListCollection(BaseModel):
    items: list[ListOut]
    total: int


# --- subscribers -----------------------------------------------------------------------


class SubscriberIn(_Strict):
    email: Email
    lists: list[ListName] = Field(min_length=1, max_length=50)
    name: PersonName | None = None
    language: Language | None = None
    attributes: dict[AttributeKey, AttributeValue] = Field(
        default_factory=dict, max_length=50, json_schema_extra=ATTRIBUTE_NAMES
    )
    status: Status
    consent: Consent


class SubscriberPatch(_Strict):
    """Only the fields given change; an attribute set to null is removed."""

    name: PersonName | None = None
    language: Language | None = None
    attributes: dict[AttributeKey, AttributeValue | None] = Field(
        default_factory=dict, max_length=50, json_schema_extra=ATTRIBUTE_NAMES
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
    offset: int = Field(description="Deprecated: the `offset` asked for, else 0.")
    next: str | None = Field(
        description="The URL of the next page (its `after` cursor), or null on the last one."
    )


class Erased(BaseModel):
    erased: bool = Field(description="Whether any personal data was held.")
    suppressed: Literal[True] = Field(description="The address is never mailed again.")


# --- campaigns -------------------------------------------------------------------------


class VersionIn(_Strict):
    content: Content = Field(
        description="The campaign in another language: Markdown (or an HTML fragment) whose "
        "front matter names its `language:` and its own subject (and preheader, kind fields).",
    )
    format: Literal["markdown", "html"] = "markdown"
    name: str = Field(
        default="api",
        pattern=SOURCE_NAME,
        description="What error messages call the content, like a file name.",
    )


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
    versions: list[VersionIn] = Field(
        default_factory=list,
        max_length=20,
        description="Translations: each recipient gets the version in their language "
        "(theirs, else their list's), the others the default (`content`).",
    )


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


class VersionOut(BaseModel):
    language: str
    default: bool
    subject: str
    preheader: str
    source: str
    recipients: int = Field(
        description="How many get this version: as frozen once queued, else as the lists stand."
    )


class VersionDetailOut(VersionOut):
    updated_at: datetime = Field(
        description="When it last changed (the default version: its newest revision)."
    )
    older_than_default: bool = Field(
        description="A translation last changed before the default version was: it may no "
        "longer say the same."
    )


class SavedVersionOut(VersionDetailOut):
    changed: bool = Field(description="False when the version already said this.")
    revision: int | None = Field(
        default=None,
        description="The revision this save was kept as (list them with "
        "GET .../revisions?language=); null when nothing changed.",
    )


class ZonePendingOut(BaseModel):
    zone: str
    release_at: datetime = Field(description="When that zone's messages go out (UTC).")
    recipients: int


class CampaignOut(CampaignSummary):
    preheader: str
    from_address: str
    reply_to: str | None
    language: str
    source: str
    status_reason: str | None
    updated_at: datetime
    counts: DeliveryCounts
    warnings: list[str] = Field(
        default_factory=list,
        description="What may need fixing though it stops nothing, such as a field the "
        "kind does not use.",
    )
    archived: bool = Field(
        description="Shown on the public archive (/archive) once sent to a public list."
    )
    versions: list[VersionOut]
    local_send_time: str | None = Field(
        default=None,
        description="Sent at this wall-clock hour (2027-01-15T09:00) in each partner's time "
        "zone; null: at one moment for all.",
    )
    zones_pending: list[ZonePendingOut] = Field(
        default_factory=list, description="The zones whose hour has not come yet, earliest first."
    )
    zone_fallbacks: int = Field(
        default=0,
        description="Recipients whose `timezone` attribute names no zone: they got the hour in "
        "their list's zone, or the unit's.",
    )


class ContentIn(_Strict):
    content: Content = Field(
        description="The whole new content, front matter and body, as for "
        "`coopmail campaigns edit --content`; what the front matter leaves out stays."
    )
    format: Literal["markdown", "html"] | None = Field(
        default=None, description="Default: the campaign's format."
    )


FieldValue = Annotated[str, _text(20_000), AfterValidator(_storable)]


class DraftPatch(_Strict):
    """Some settings of a draft; what is left out stays as it is."""

    subject: Subject | None = None
    preheader: Annotated[str, _line(500), AfterValidator(_single_line)] | None = None
    template: str | None = Field(default=None, pattern=TEMPLATE_NAME)
    lists: list[ListName] | None = Field(default=None, min_length=1, max_length=50)
    from_address: Email | None = Field(default=None, description="The sender, as `from`.")
    reply_to: Email | None = Field(default=None, description='"" for none.')
    language: Language | None = None
    fields: dict[str, FieldValue | list[FieldValue] | None] = Field(
        default_factory=dict,
        max_length=50,
        description="The kind's fields (GET /api/v1/kinds) to set; null removes one.",
    )
    body: Annotated[str, _text(MAX_CONTENT_BYTES), AfterValidator(_storable)] | None = None


class RevisionOut(BaseModel):
    number: int
    author: str
    created_at: datetime
    restored_from: int | None
    language: str | None = Field(
        description="The translation it is a revision of; null for the default version."
    )
    source: str | None = Field(
        default=None, description="The content as a file holds it (on one revision only)."
    )


class DiffOut(BaseModel):
    old: int
    new: int
    diff: str = Field(description="A unified diff; empty when they are the same.")


class PreviewIn(_Strict):
    content: Content
    format: Literal["markdown", "html"] = "markdown"
    template: str | None = Field(default=None, pattern=TEMPLATE_NAME)
    language: Language | None = None
    lists: list[ListName] = Field(default_factory=list, max_length=50)
    to: Email | None = Field(default=None, description="A subscriber of the lists to preview as.")


class PreviewOut(BaseModel):
    subject: str
    html: str
    text: str
    recipient: str
    warnings: list[str]


class CheckItemOut(BaseModel):
    name: str = Field(examples=["dkim"])
    verdict: Literal["ok", "warn", "fail", "skipped"]
    detail: dict[str, Any]


class ChecklistOut(BaseModel):
    id: int
    items: list[CheckItemOut]


class ProgressOut(BaseModel):
    id: int
    status: CampaignStatusName
    status_reason: str | None
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int
    done: int
    rate_per_second: float = Field(description="Over the last five minutes.")
    seconds_left: int | None
    problems: list[dict[str, Any]]
    queued_at: datetime | None
    finished_at: datetime | None


class ReportCounts(BaseModel):
    recipients: int
    delivered: int
    failed: int
    skipped: int
    hard: int
    soft: int
    complaints: int
    unsubscribes: int


class DomainCounts(ReportCounts):
    domain: str


class ReportOut(BaseModel):
    id: int
    status: CampaignStatusName
    totals: ReportCounts
    domains: list[DomainCounts]


class DeliveryRowOut(BaseModel):
    id: int
    email: str | None
    state: Literal["queued", "sending", "sent", "failed", "skipped"]
    attempts: int
    last_code: int | None
    last_reply: str
    sent_at: datetime | None
    updated_at: datetime


class SenderOut(BaseModel):
    from_address: str
    reply_to: str | None


class KindFieldOut(BaseModel):
    name: str
    type: Literal["text", "paragraph", "lines", "date", "image", "months"]
    label: str
    help: str
    default: Literal["none", "send_date", "unit_place", "unit_signature", "words"] = Field(
        description="Where the value comes from when the field is left out."
    )
    words: str | None = Field(description="The default phrase (in English) for `words`.")


class KindOut(BaseModel):
    name: str
    label: str
    body_help: str
    fields: list[KindFieldOut]


class ArchiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    archived: bool


class CampaignPage(BaseModel):
    items: list[CampaignSummary]
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="The URL of the next page, or null on the last one.")


class ScheduleIn(_Strict):
    at: datetime = Field(
        description="When to start sending, ISO 8601: without an offset "
        "(2026-12-01T09:00:00) in the unit's time zone (the timezone setting), as the "
        "command line reads it, or with one (2026-12-01T09:00:00+01:00)."
    )
    each_local_time: bool = Field(
        default=False,
        description="Send at that hour in each partner's own time zone (their `timezone` "
        "attribute, else their list's, else the unit's): `at` is then the hour on their "
        "clocks, without an offset (422 `invalid_time` with one, as the command line "
        "refuses it). 409 `zone_hour_passed` if that hour has already passed in any of "
        "their zones.",
    )
