"""What to do next, in command-line terms, for the packages' errors and states.

The packages say what happened (with the data in fields); only the command line knows its
own commands, so the hints live here. The API and the admin say the same things their way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaigns.digest import NoNewsForMonth, NotAnIssue
from campaigns.errors import (
    CampaignNotFound,
    CampaignPaused,
    DefaultVersion,
    DraftOnly,
    RevisionNotFound,
    RevisionsOfTwoVersions,
    ScheduleInPast,
    TooManyVariants,
    VariantNotFound,
    VersionExists,
    VersionNotFound,
)
from campaigns.media.errors import ImageProblem
from campaigns.models import CampaignStatus
from campaigns.news import DuplicateNewsLink, NewsItemNotFound
from coopmail.staff.errors import AccountNotFound, LastOwner, WeakPassword
from coopmail.staff.passwords import MIN_LENGTH
from subscribers.errors import AddressSuppressed, ListNotFound

_ADD_IMAGE = "add the image with `coopmail media add FILE --alt TEXT` and use the URL it prints"
_IMAGE_HINTS = {
    "no_files": _ADD_IMAGE,
    "not_in_library": _ADD_IMAGE,
    "insecure": _ADD_IMAGE,
    "scheme": _ADD_IMAGE,
    "no_alt": "write what the image shows between the brackets: ![what it shows](file)",
    "unreachable": "check the address, or pass --no-image-check when working offline",
}


def _draft_only(error: DraftOnly) -> str:
    if error.status == "scheduled":
        return (
            f"take it back to draft first with `coopmail campaigns unschedule {error.campaign_id}`"
        )
    return (
        f"start a new draft from it: `coopmail campaigns source {error.campaign_id} > FILE`, "
        "then `coopmail campaigns create --content FILE`"
    )


def _two_versions(error: RevisionsOfTwoVersions) -> str:
    commands = [
        f"`coopmail campaigns revisions {error.campaign_id}"
        + (f" --language {language}`" if language else "`")
        for language in (error.old_language, error.new_language)
    ]
    return "see each version's revisions with " + " and ".join(commands)


_ERROR_HINTS: list[tuple[type[Exception], Callable[[Any], str]]] = [
    (
        ListNotFound,
        lambda e: f"see `coopmail lists list` or create it with `coopmail lists create {e.name}`",
    ),
    (
        AddressSuppressed,
        lambda e: (
            "if the person asked to come back, remove the suppression with "
            f"`coopmail suppressions remove {e.email}`"
        ),
    ),
    (CampaignNotFound, lambda e: "see `coopmail campaigns list`"),
    (ImageProblem, lambda e: _IMAGE_HINTS.get(e.reason, "")),
    (DraftOnly, _draft_only),
    (RevisionNotFound, lambda e: f"see `coopmail campaigns revisions {e.campaign_id}`"),
    (RevisionsOfTwoVersions, _two_versions),
    (CampaignPaused, lambda e: f"carry on with `coopmail campaigns resume {e.campaign_id}`"),
    (ScheduleInPast, lambda e: f"or send it now with `coopmail campaigns send {e.campaign_id}`"),
    (
        VersionNotFound,
        lambda e: f"see its versions with `coopmail campaigns versions list {e.campaign_id}`",
    ),
    (
        VersionExists,
        lambda e: (
            f"change it with `coopmail campaigns versions edit {e.campaign_id} --content FILE`"
        ),
    ),
    (
        DefaultVersion,
        lambda e: f"change it with `coopmail campaigns edit {e.campaign_id} --content FILE`",
    ),
    (
        VariantNotFound,
        lambda e: f"see its variants with `coopmail campaigns variants {e.campaign_id}`",
    ),
    (
        TooManyVariants,
        lambda e: (
            "test fewer values (group them in one attribute, such as a region instead "
            "of a country), or split the campaign by list"
        ),
    ),
    (NewsItemNotFound, lambda e: "see `coopmail news list`"),
    (DuplicateNewsLink, lambda e: f"remove it first with `coopmail news remove {e.existing_id}`"),
    (NoNewsForMonth, lambda e: "add some with `coopmail news add` or `coopmail news import`"),
    (NotAnIssue, lambda e: "`coopmail digest run` makes a digest's issues"),
    (AccountNotFound, lambda e: "see `coopmail users list`"),
    (
        LastOwner,
        lambda e: "make someone else an owner first with `coopmail users set-role EMAIL owner`",
    ),
    (
        WeakPassword,
        lambda e: f"choose at least {MIN_LENGTH} characters; a few unrelated words work well",
    ),
]


def for_error(error: Exception) -> str | None:
    """The next step for an error, or None when the message says all there is."""
    for kind, hint in _ERROR_HINTS:
        if isinstance(error, kind):
            return hint(error)
    return None


def for_campaign(*, campaign_id: int, status: CampaignStatus, reason: str) -> str | None:
    """The next step for a campaign that waits for a person (paused, or a missed schedule)."""
    if status is CampaignStatus.PAUSED:
        return for_pause(campaign_id)
    if status is CampaignStatus.DRAFT and reason.startswith("missed"):
        return (
            f"send it now with `coopmail campaigns send {campaign_id}` or give it a new time "
            f"with `coopmail campaigns schedule {campaign_id} --at ...`"
        )
    return None


def for_pause(campaign_id: int) -> str:
    """What to do about a campaign a worker paused (a refused sender, a storm of failures)."""
    return f"fix the cause, then `coopmail campaigns resume {campaign_id}`"


def for_draft_issue(campaign_id: int) -> str:
    return (
        f"preview it with `coopmail campaigns preview {campaign_id} --output DIR`, then send "
        f"it with `coopmail campaigns send {campaign_id}`"
    )
