"""The campaigns: every campaign with its status and counts, one campaign's page, and the
studio's form to write a new one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from babel.dates import format_time
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from campaigns import overview
from campaigns.archive import SHOWN, set_archived, slug_of
from campaigns.digest import issue_month, items_without_link
from campaigns.drafts import get_campaign, list_campaigns, prepare_campaign, store_campaign
from campaigns.editing import apply_edit, prepare_edit
from campaigns.errors import (
    CampaignNotFound,
    ContentError,
    DefaultVersion,
    DraftOnly,
    VersionNotFound,
)
from campaigns.media.library import describe, list_media
from campaigns.models import Campaign, CampaignStatus, SourceFormat
from campaigns.outbox import delivery_counts
from campaigns.revisions import list_revisions
from campaigns.versions import (
    apply_version_edit,
    campaign_versions,
    older_than_default,
    prepare_version_edit,
    version_changed_at,
)
from coopmail.media import image_context
from coopmail.web.admin import studio_words, words
from coopmail.web.admin.access import Visit, is_script
from coopmail.web.admin.campaign_form import (
    ContentProblem,
    StudioForm,
    describe_problem,
    kind_fields,
    kind_label,
    placeholders,
)
from coopmail.web.admin.checklist_panel import ChecklistPanel
from coopmail.web.admin.site import AdminSite
from subscribers.errors import ListNotFound
from subscribers.languages import LANGUAGES, writing_language
from subscribers.lists import summarise_lists
from templates.catalogs import format_locale

PAGE_SIZE = 50


class CampaignPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site
        self.checklists = ChecklistPanel(site)

    # --- the list and one campaign -----------------------------------------------------

    def campaigns_page(self, visit: Visit) -> Response:
        with self.site.context.session(write=False) as session:
            campaigns = list_campaigns(session, limit=PAGE_SIZE)
            counts = overview.delivery_counts_by_campaign(
                session, campaign_ids=[c.id for c in campaigns]
            )
            rows = [
                {
                    "id": c.id,
                    "subject": c.subject,
                    "kind": c.template,
                    "status": c.status.value,
                    "lists": [ml.title for ml in c.lists],
                    "scheduled_at": c.scheduled_at,
                    "created_at": c.created_at,
                    "counts": counts[c.id],
                    "total": sum(counts[c.id].values()),
                }
                for c in campaigns
            ]
        return self.site.render(visit, "campaigns.html", rows=rows, kind_label=kind_label)

    def campaign_page(self, visit: Visit) -> Response:
        return self.show(visit)

    def show(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        """The campaign's page; a form posted from it comes back here when it was wrong.
        Its revisions panel shows the default version's, or with ``?language=`` a
        translation's."""
        found = self.site.path_id(visit, "campaign_id")
        history = visit.query("language", 35) or None
        with self.site.context.session(write=False) as session:
            try:
                campaign = get_campaign(session, campaign_id=found)
                kept = list_revisions(session, campaign_id=found, language=history)
            except (CampaignNotFound, VersionNotFound):
                return self.site.pages.problem(visit, status=404, problem="not_found")
            counts = delivery_counts(session, campaign_id=found)
            facts = _facts(campaign)
            versions = self.versions_facts(session, found)
            digest_month = issue_month(session, campaign_id=found)
            revisions = [
                {
                    "number": r.number,
                    "author": r.author,
                    "created_at": r.created_at,
                    "restored_from": r.restored_from,
                }
                for r in reversed(kept)
            ]
            history = None if history == campaign.language else history
        checklist = self.checklists.checklist(visit, found) if facts["can_schedule"] else None
        local = ""
        if campaign.scheduled_at is not None:
            local = campaign.scheduled_at.astimezone(self.site.pages.zone).strftime(
                "%Y-%m-%dT%H:%M"
            )
        return self.site.render(
            visit,
            "campaign.html",
            status=status,
            kind_label=kind_label,
            campaign=facts,
            counts=counts,
            total=sum(counts.values()),
            errors=errors or {},
            values={"at": local, **(values or {})},
            versions=versions,
            revisions=revisions,
            history=history,
            checklist=checklist,
            digest_month=digest_month,
        )

    # --- the studio: write a new campaign ----------------------------------------------

    def new_page(self, visit: Visit) -> Response:
        senders = self.senders()
        kind = visit.query("kind", 100)
        form = StudioForm(
            kind=kind if kind in self.site.context.composer.kinds() else "",
            sender=senders[0],
            language=visit.language,
        )
        return self.editor(visit, form)

    def create(self, visit: Visit) -> Response:
        """A new campaign from the studio's form, stored as a draft. Our script's autosave
        posts the same form here until the draft exists, and reads the outcome as JSON:
        where the draft now lives, so that its next saves edit it instead of making another."""
        form = StudioForm.read(visit)
        errors = self.check(visit, form)
        if errors:
            return self.failed(visit, form, {"status": 400, "errors": errors}, {})
        try:
            with self.site.context.session(write=False) as session:  # render without the lock
                draft = prepare_campaign(
                    session,
                    composer=self.site.context.composer,
                    content=form.content(),
                    default_sender=self.site.settings.from_address,
                    template=form.kind,
                    list_names=form.lists,
                    subject=form.subject,
                    images=image_context(self.site.settings, folder=None),
                    senders=self.site.settings.sender_choices(),
                )
            with self.site.context.session() as session:
                campaign = store_campaign(
                    session, draft=draft, author=visit.me.email, now=visit.now
                )
                self.site.record(
                    session,
                    visit,
                    "campaign.created",
                    target_type="campaign",
                    target_id=campaign.id,
                    details={"kind": campaign.template, "lists": form.lists},
                )
                created, saved_at = campaign.id, campaign.updated_at
        except ListNotFound:
            failed = {
                "status": 400,
                "errors": {"lists": self.site.pages.say(visit, words.CHOOSE_LISTS)},
            }
        except ContentError as error:
            failed = {"status": 400, "problem": ContentProblem.of(error)}
        else:
            if is_script(visit.request):
                return self.autosaved(visit, 200, at=saved_at, created=created)
            return self.site.redirect(f"/admin/campaigns/{created}", done="campaign_created")
        return self.failed(visit, form, failed, {})

    def edit_page(self, visit: Visit) -> Response:
        """The editor on one version of a draft: the default one, or with ``?language=``
        a translation, each a tab."""
        found = self.site.path_id(visit, "campaign_id")
        language = visit.query("language", 35)
        with self.site.context.session(write=False) as session:
            try:
                campaign = get_campaign(session, campaign_id=found)
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            versions = campaign_versions(session, campaign=campaign)
            chosen = next((v for v in versions[1:] if v.language == language), None)
            if language and chosen is None:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            form = StudioForm.of(campaign, chosen)
        return self.editor(
            visit, form, campaign_id=found, version=chosen.language if chosen else None
        )

    def save(self, visit: Visit) -> Response:
        """A draft (or a scheduled campaign) changed; each save of its default version is
        kept as a revision. From a translation's tab, only that version changes. Our
        script's autosave posts the same form and reads the outcome as JSON."""
        found = self.site.path_id(visit, "campaign_id")
        version = visit.field("version", 35) or None
        if version is not None:  # a translation's tab
            return self.save_version(visit, found, version)
        form = StudioForm.read(visit)
        shown: dict[str, Any] = {"campaign_id": found, "version": version}
        errors = self.check(visit, form)
        if errors:
            return self.failed(visit, form, {"status": 400, "errors": errors}, shown)
        try:
            with self.site.context.session(write=False) as session:  # render without the lock
                campaign = get_campaign(session, campaign_id=found)
                draft = prepare_edit(
                    session,
                    composer=self.site.context.composer,
                    campaign=campaign,
                    content=form.content(),
                    senders=self.site.settings.sender_choices(),
                    images=image_context(self.site.settings, folder=None),
                )
            with self.site.context.session() as session:
                saved = apply_edit(
                    session, campaign_id=found, draft=draft, author=visit.me.email, now=visit.now
                )
                if saved.stored is not None:
                    self.site.record(
                        session, visit, "campaign.edited", target_type="campaign", target_id=found
                    )
                saved_at = saved.campaign.updated_at
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except DraftOnly:
            failed = {
                "status": 409,
                "errors": {"kind": self.site.pages.say(visit, words.NOT_EDITABLE)},
            }
        except ListNotFound:
            failed = {
                "status": 400,
                "errors": {"lists": self.site.pages.say(visit, words.CHOOSE_LISTS)},
            }
        except ContentError as error:
            failed = {"status": 400, "problem": ContentProblem.of(error)}
        else:
            if is_script(visit.request):
                return self.autosaved(visit, 200, at=saved_at)
            return self.site.redirect(f"/admin/campaigns/{found}", done="saved")
        return self.failed(visit, form, failed, shown)

    def save_version(self, visit: Visit, found: int, language: str) -> Response:
        """Save one translation from its tab: the default version and the others stay."""
        form = replace(StudioForm.read(visit), language=language)
        shown: dict[str, Any] = {"campaign_id": found, "version": language}
        errors = self.check(visit, form)
        if errors:
            return self.failed(visit, form, {"status": 400, "errors": errors}, shown)
        try:
            with self.site.context.session(write=False) as session:  # render without the lock
                campaign = get_campaign(session, campaign_id=found)
                draft = prepare_version_edit(
                    session,
                    composer=self.site.context.composer,
                    campaign=campaign,
                    content=form.content(translation=True),
                    images=image_context(self.site.settings, folder=None),
                )
            with self.site.context.session() as session:
                stored = apply_version_edit(
                    session,
                    campaign_id=found,
                    version=draft,
                    author=visit.me.email,
                    now=visit.now,
                )
                if stored is not None:
                    self.site.record(
                        session,
                        visit,
                        "campaign.version_edited",
                        target_type="campaign",
                        target_id=found,
                        details={"language": language, "revision": stored.number},
                    )
                saved_at = version_changed_at(session, campaign_id=found, language=language)
        except (CampaignNotFound, VersionNotFound, DefaultVersion):
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except DraftOnly:
            failed = {
                "status": 409,
                "errors": {"kind": self.site.pages.say(visit, words.NOT_EDITABLE)},
            }
        except ContentError as error:
            failed = {"status": 400, "problem": ContentProblem.of(error)}
        else:
            if is_script(visit.request):
                return self.autosaved(visit, 200, at=saved_at)
            return self.site.redirect(
                f"/admin/campaigns/{found}/edit?language={language}", done="saved"
            )
        return self.failed(visit, form, failed, shown)

    def failed(
        self, visit: Visit, form: StudioForm, failed: dict[str, Any], shown: dict[str, Any]
    ) -> Response:
        """A save that did not happen: the editor again with why, or for the script the
        reason as JSON."""
        if not is_script(visit.request):
            return self.editor(visit, form, **failed, **shown)
        problem: ContentProblem | None = failed.get("problem")
        if problem is not None:
            reason = describe_problem(self.site.pages, visit, problem)
            return self.autosaved(visit, failed["status"], reason=reason, data=problem.as_json())
        name, message = next(iter(failed["errors"].items()))
        return self.autosaved(visit, failed["status"], reason=message, data={"field": name})

    def autosaved(
        self,
        visit: Visit,
        status: int,
        *,
        at: datetime | None = None,
        created: int | None = None,
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> Response:
        """What the autosave shows: "Saved at 14:02", or "Not saved:" and why. For a draft
        it has just ``created``, also the draft's editor (for the address bar) and where
        its form now posts, so that the script's next save edits that draft."""
        say = self.site.pages.say
        if at is not None:
            time = format_time(
                at.astimezone(self.site.pages.zone),
                format="short",
                locale=format_locale(writing_language(visit.language)),
            )
            answer: dict[str, Any] = {
                "saved": True,
                "message": say(visit, studio_words.AUTOSAVED, time=time),
            }
            if created is not None:
                editor = editor_address(created)
                answer |= {"campaign_id": created, "edit_url": editor, "action": editor}
            return JSONResponse(answer)
        return JSONResponse(
            {
                "saved": False,
                "message": say(visit, studio_words.NOT_SAVED, reason=reason),
                "problem": data,
            },
            status_code=status,
        )

    def archive(self, visit: Visit) -> Response:
        """Mark the campaign for the public archive (shown there once sent), or take it off."""
        found = self.site.path_id(visit, "campaign_id")
        archived = visit.field("archived") == "yes"
        try:
            with self.site.context.session() as session:
                set_archived(session, campaign_id=found, archived=archived)
                self.site.record(
                    session,
                    visit,
                    "campaign.archived" if archived else "campaign.unarchived",
                    target_type="campaign",
                    target_id=found,
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        done = "archived" if archived else "unarchived"
        return self.site.redirect(f"/admin/campaigns/{found}", done=done)

    def check(self, visit: Visit, form: StudioForm) -> dict[str, str]:
        """The form's own mistakes (a missing subject, no list), in the visit's words."""
        problems = form.problems(self.site.context.composer.kinds(), self.senders())
        return {name: self.site.pages.say(visit, msgid) for name, msgid in problems.items()}

    def editor(
        self,
        visit: Visit,
        form: StudioForm,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        problem: ContentProblem | None = None,
        campaign_id: int | None = None,
        version: str | None = None,
    ) -> Response:
        """The studio's form: for a new campaign, or for one version of a saved one, with
        the tabs of its versions."""
        base_url = self.site.settings.base_url
        versions: dict[str, Any] | None = None
        with self.site.context.session(write=False) as session:
            lists = summarise_lists(session)
            images = [describe(item, base_url=base_url) for item in list_media(session, limit=24)]
            if campaign_id is not None:
                versions = self.versions_facts(session, campaign_id)
        action = "/admin/campaigns" if campaign_id is None else editor_address(campaign_id)
        return self.site.render(
            visit,
            "campaign-edit.html",
            images=images,
            status=status,
            form=form,
            errors=errors or {},
            problem=problem,
            action=action,
            campaign={"id": campaign_id} if campaign_id is not None else None,
            version=version,
            versions=versions,
            kinds=self.site.context.composer.kinds(),
            kind_label=kind_label,
            fields=kind_fields(form.kind),
            placeholders=placeholders(
                form.kind,
                language=form.language,
                unit=self.site.unit,
                today=visit.now.astimezone(self.site.pages.zone).date(),
            ),
            lists=lists,
            senders=self.senders(),
            formats=[f.value for f in SourceFormat],
        )

    @staticmethod
    def versions_facts(session: Session, campaign_id: int) -> dict[str, Any]:
        """The campaign's versions as the tabs show them: the default first, which are
        older than the default, which languages a new version may take."""
        campaign = get_campaign(session, campaign_id=campaign_id)
        languages = [v.language for v in campaign_versions(session, campaign=campaign)]
        return {
            "default": languages[0],
            "languages": languages,
            "older": older_than_default(session, campaign=campaign),
            "addable": [code for code in LANGUAGES if code not in languages],
            "is_draft": campaign.status is CampaignStatus.DRAFT,
        }

    def senders(self) -> list[str]:
        """The addresses a campaign may come from."""
        return [sender.from_address for sender in self.site.settings.sender_choices()]


def editor_address(campaign_id: int) -> str:
    """The draft's editor: its page, and where its form posts (the Save button and the
    autosave alike)."""
    return f"/admin/campaigns/{campaign_id}/edit"


def _facts(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "subject": campaign.subject,
        "preheader": campaign.preheader,
        "kind": campaign.template,
        "format": campaign.source_format.value,
        "status": campaign.status.value,
        "reason": campaign.status_reason,
        "lists": [ml.title for ml in campaign.lists],
        "sender": campaign.from_address,
        "reply_to": campaign.reply_to,
        "language": campaign.language,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
        "scheduled_at": campaign.scheduled_at,
        "local_send_time": campaign.local_send_time,  # at that hour in each partner's zone
        "queued_at": campaign.queued_at,
        "finished_at": campaign.finished_at,
        "is_draft": campaign.status is CampaignStatus.DRAFT,
        "can_schedule": campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
        "is_scheduled": campaign.status is CampaignStatus.SCHEDULED,
        "archived": campaign.archived,
        "archive_path": f"/archive/{slug_of(campaign.id, campaign.subject)}",
        "in_archive": campaign.archived and campaign.status in SHOWN,
        "has_progress": campaign.status
        in (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.SENT),
        # A digest's items without a link: no "read more" under them, flagged before sending.
        "without_link": items_without_link(campaign.meta) if campaign.template == "digest" else [],
    }
