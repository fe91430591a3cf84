"""A campaign's versions in other languages, in the studio: add one (a copy of the default
version, to translate), remove one, and read a translation beside the default version.
Each version is edited in its own tab of the editor (``CampaignPages.edit_page``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from campaigns.drafts import get_campaign
from campaigns.errors import (
    CampaignNotFound,
    ContentError,
    DefaultVersion,
    DraftOnly,
    VersionExists,
    VersionNotFound,
)
from campaigns.kinds import get_kind
from campaigns.versions import (
    Version,
    add_version,
    campaign_versions,
    default_changed_at,
    older_than_default,
    remove_version,
)
from coopmail.web.admin import studio_words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.campaign_form import kind_fields
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.site import AdminSite
from subscribers.languages import LANGUAGES


class VersionPages:
    def __init__(self, site: AdminSite, campaigns: CampaignPages) -> None:
        self.site = site
        self.campaigns = campaigns

    def add(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        language = visit.field("language", 35)
        say = self.site.pages.say
        if language not in LANGUAGES:
            message = say(visit, studio_words.CHOOSE_VERSION_LANGUAGE)
            return self.campaigns.show(visit, status=400, errors={"state": message})
        try:
            with self.site.context.session() as session:
                add_version(
                    session,
                    campaign_id=found,
                    language=language,
                    author=visit.me.email,
                    now=visit.now,
                )
                self.site.record(
                    session,
                    visit,
                    "campaign.version_added",
                    target_type="campaign",
                    target_id=found,
                    details={"language": language},
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except (VersionExists, ContentError):
            message = say(visit, studio_words.VERSION_EXISTS)
            return self.campaigns.show(visit, status=409, errors={"state": message})
        except DraftOnly:
            message = say(visit, studio_words.VERSION_DRAFT_ONLY)
            return self.campaigns.show(visit, status=409, errors={"state": message})
        return self.site.redirect(
            f"/admin/campaigns/{found}/edit", done="version_added", language=language
        )

    def remove(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        language = visit.field("language", 35)
        say = self.site.pages.say
        try:
            with self.site.context.session() as session:
                remove_version(session, campaign_id=found, language=language)
                self.site.record(
                    session,
                    visit,
                    "campaign.version_removed",
                    target_type="campaign",
                    target_id=found,
                    details={"language": language},
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except (VersionNotFound, DefaultVersion):
            message = say(visit, studio_words.NO_VERSION)
            return self.campaigns.show(visit, status=404, errors={"state": message})
        except DraftOnly:
            message = say(visit, studio_words.VERSION_DRAFT_ONLY)
            return self.campaigns.show(visit, status=409, errors={"state": message})
        return self.site.redirect(f"/admin/campaigns/{found}/edit", done="version_removed")

    def side_by_side(self, visit: Visit) -> Response:
        """The default version and one translation (``?language=``, else the first), side
        by side: subject, preheader, the kind's fields and the body."""
        found = self.site.path_id(visit, "campaign_id")
        with self.site.context.session(write=False) as session:
            try:
                campaign = get_campaign(session, campaign_id=found)
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            versions = campaign_versions(session, campaign=campaign)
            older = older_than_default(session, campaign=campaign)
            asked = visit.query("language", 35)
            translations = versions[1:]
            chosen = next((v for v in translations if v.language == asked), None)
            if chosen is None and asked:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            chosen = chosen or (translations[0] if translations else None)
            fields = [spec.declared for spec in kind_fields(campaign.template)]
            labels = {declared.name: declared.label for declared in fields}
            kind = get_kind(campaign.template)
            facts = {"id": found, "subject": campaign.subject, "kind": kind.label if kind else ""}
            return self.site.render(
                visit,
                "campaign-versions.html",
                campaign=facts,
                default={
                    **_shown(versions[0], labels),
                    "updated_at": default_changed_at(session, campaign=campaign),
                },
                translation=_shown(chosen, labels) if chosen else None,
                translated=[v.language for v in translations],
                older=chosen is not None and chosen.language in older,
            )


def _shown(version: Version, labels: dict[str, str]) -> dict[str, Any]:
    """One version as the side-by-side view reads it."""
    meta = version.content.meta
    return {
        "language": version.language,
        "subject": version.subject,
        "preheader": version.preheader,
        "fields": [
            (label, "\n".join(map(str, value)) if isinstance(value, list) else str(value))
            for name, label in labels.items()
            if (value := meta.get(name)) not in (None, "", [])
        ],
        "body": version.content.body,
        "updated_at": version.updated_at,
    }
