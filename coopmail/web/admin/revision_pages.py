"""A draft's revisions in the studio: compare one with the current content, and bring one
back, of the default version or of a translation. The same use cases as ``coopmail
campaigns diff`` and ``restore`` and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from campaigns.drafts import get_campaign
from campaigns.editing import EDITABLE
from campaigns.errors import (
    CampaignNotFound,
    ContentError,
    DefaultVersion,
    DraftOnly,
    RevisionNotFound,
    VersionNotFound,
)
from campaigns.restoring import apply_restore, prepare_restore
from campaigns.revisions import compare_revisions, list_revisions
from coopmail.ids import row_id
from coopmail.web.admin import studio_words, words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.campaign_form import ContentProblem, describe_problem
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.site import AdminSite
from subscribers.errors import ListNotFound


@dataclass(frozen=True, kw_only=True)
class DiffLine:
    change: str  # "added", "removed", "same" or "gap" (lines left out between changes)
    text: str


def diff_lines(unified: list[str]) -> list[DiffLine]:
    """A unified diff as lines to show: what was removed, added, kept around them."""
    shown = []
    for line in unified:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            shown.append(DiffLine(change="gap", text=""))
        elif line.startswith("+"):
            shown.append(DiffLine(change="added", text=line[1:]))
        elif line.startswith("-"):
            shown.append(DiffLine(change="removed", text=line[1:]))
        else:
            shown.append(DiffLine(change="same", text=line[1:]))
    return shown[1:] if shown and shown[0].change == "gap" else shown


class RevisionPages:
    def __init__(self, site: AdminSite, campaigns: CampaignPages) -> None:
        self.site = site
        self.campaigns = campaigns

    def compare_page(self, visit: Visit) -> Response:
        """Revision ``?revision=`` beside the current one (the newest of its version, the
        default one or with ``?language=`` a translation): what changed since."""
        found = self.site.path_id(visit, "campaign_id")
        language = visit.query("language", 35) or None
        with self.site.context.session(write=False) as session:
            try:
                campaign = get_campaign(session, campaign_id=found)
                revisions = list_revisions(session, campaign_id=found, language=language)
            except (CampaignNotFound, VersionNotFound):
                return self.site.pages.problem(visit, status=404, problem="not_found")
            if language == campaign.language:
                language = None
            current = revisions[-1].number if revisions else None
            asked = row_id(visit.query("revision", 12))
            if asked is None and revisions:
                asked = revisions[0].number
            known = {r.number for r in revisions}
            lines = None
            if asked in known and current is not None:
                result = compare_revisions(session, campaign_id=found, old=asked, new=current)
                lines = diff_lines(result.lines)
            facts = {
                "id": found,
                "subject": campaign.subject,
                "editable": campaign.status in EDITABLE,
            }
            choices = [
                {"number": r.number, "author": r.author, "created_at": r.created_at}
                for r in revisions
            ]
        return self.site.render(
            visit,
            "campaign-compare.html",
            status=200 if lines is not None or not revisions else 404,
            campaign=facts,
            revisions=choices,
            language=language,
            asked=asked,
            current=current,
            lines=lines,
        )

    def restore(self, visit: Visit) -> Response:
        """Make revision ``revision`` the content again, as the newest revision."""
        found = self.site.path_id(visit, "campaign_id")
        number = row_id(visit.field("revision", 12))
        say = self.site.pages.say
        try:
            if number is None:
                raise RevisionNotFound(campaign_id=found, number=0)
            with self.site.context.session(write=False) as session:  # render without the lock
                prepared = prepare_restore(
                    session,
                    composer=self.site.context.composer,
                    campaign_id=found,
                    number=number,
                    senders=self.site.settings.sender_choices(),
                )
            with self.site.context.session() as session:
                apply_restore(
                    session,
                    campaign_id=found,
                    prepared=prepared,
                    author=visit.me.email,
                    now=visit.now,
                )
                details: dict[str, Any] = {"revision": number}
                if prepared.language is not None:
                    details["language"] = prepared.language
                self.site.record(
                    session,
                    visit,
                    "campaign.restored",
                    target_type="campaign",
                    target_id=found,
                    details=details,
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except RevisionNotFound:
            status, message = 404, say(visit, studio_words.NO_REVISION)
        except (VersionNotFound, DefaultVersion):  # a removed translation's revision
            status, message = 409, say(visit, studio_words.RESTORE_NO_VERSION)
        except DraftOnly:
            status, message = 409, say(visit, words.NOT_EDITABLE)
        except ListNotFound:
            status, message = 400, say(visit, words.CHOOSE_LISTS)
        except ContentError as error:
            problem = ContentProblem.of(error)
            status, message = 400, describe_problem(self.site.pages, visit, problem)
        else:
            back = {"language": prepared.language} if prepared.language else {}
            return self.site.redirect(f"/admin/campaigns/{found}", done="restored", **back)
        return self.campaigns.show(visit, status=status, errors={"state": message})
