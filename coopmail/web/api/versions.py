"""/api/v1/campaigns/{id}/versions: a campaign's versions in other languages, one at a
time, through the use cases the studio's tabs and `coopmail campaigns versions` call.

Content is rendered in a read-only session before the write transaction, as for
PUT .../content. No `from __future__ import annotations` here: FastAPI must see the
routes' annotations evaluated.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import get_campaign
from campaigns.editions import summarise_versions
from campaigns.models import Campaign, SourceFormat
from campaigns.revisions import list_revisions
from campaigns.versions import (
    add_version,
    apply_version_edit,
    campaign_versions,
    prepare_new_version,
    prepare_version_edit,
    remove_version,
)
from coopmail.apikeys import ApiKey
from coopmail.media import image_context
from coopmail.web.api.campaigns import CampaignId, author_of
from coopmail.web.api.errors import ApiRoute, error_responses
from coopmail.web.api.models import ContentIn, SavedVersionOut, VersionDetailOut
from coopmail.web.context import WebContext
from subscribers.errors import InvalidLanguage
from subscribers.languages import LANGUAGE_TAG_PATTERN, check_language
from subscribers.models import LANGUAGE_MAX


def _standard_tag(value: str) -> str:
    """The tag as versions are stored (``FR`` is ``fr``), by the one rule of tags."""
    try:
        tag = check_language(value)
    except InvalidLanguage as error:
        raise ValueError(str(error)) from None
    if tag is None:
        raise ValueError("must be a language tag such as fr or es")
    return tag


LanguageTag = Annotated[
    str,
    Path(
        min_length=2,
        max_length=LANGUAGE_MAX,
        pattern=f"^{LANGUAGE_TAG_PATTERN}$",
        description="The version's language tag, such as fr, es or pt-BR.",
    ),
    AfterValidator(_standard_tag),
]


def _standard_tag_if_given(value: str | None) -> str | None:
    return None if value is None else _standard_tag(value)


LanguageFilter = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=LANGUAGE_MAX,
        pattern=f"^{LANGUAGE_TAG_PATTERN}$",
        description="A translation's language tag, such as fr; without it, the default version.",
    ),
    AfterValidator(_standard_tag_if_given),
]


def version_details(
    session: Session, *, campaign: Campaign, composer: Composer
) -> list[VersionDetailOut]:
    """Every version, the default first, with its recipients and when it last changed."""
    return [
        VersionDetailOut(
            language=version.language,
            default=version.default,
            subject=version.subject,
            preheader=version.preheader,
            source=version.source,
            recipients=version.recipients,
            updated_at=version.changed_at,
            older_than_default=version.older_than_default,
        )
        for version in summarise_versions(session, composer=composer, campaign=campaign)
    ]


def versions_router(context: WebContext, caller: Callable[..., ApiKey]) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["campaigns"])
    Caller = Annotated[ApiKey, Depends(caller)]

    @router.get("/campaigns/{campaign_id}/versions", responses=error_responses(404))
    def get_versions(campaign_id: CampaignId) -> list[VersionDetailOut]:
        """Every version of a campaign, the default first, then the others by language."""
        with context.session(write=False) as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            return version_details(session, campaign=campaign, composer=context.composer)

    @router.put(
        "/campaigns/{campaign_id}/versions/{language}",
        responses={
            201: {"model": SavedVersionOut, "description": "A version the campaign lacked"},
            **error_responses(404, 409),
        },
    )
    def put_version(
        campaign_id: CampaignId,
        language: LanguageTag,
        body: ContentIn,
        response: Response,
        key: Caller,
    ) -> SavedVersionOut:
        """Save the version in `language` of a draft (or a scheduled campaign) from content
        with its own subject (preheader, kind fields) in the front matter, whose
        `language:` is this one or left out. 201 when the campaign had no version in it
        (it is added), 200 when it had; the default version and the other translations
        stay. 409 `default_version` for the default version (change it with PUT
        .../content), `not_a_draft` once queued."""
        with context.session(write=False) as session:  # render without the write lock
            campaign = get_campaign(session, campaign_id=campaign_id)
            versions = {v.language: v for v in campaign_versions(session, campaign=campaign)}
            current = versions.get(language)
            like = current or versions[campaign.language]
            content = parse_content(
                body.content,
                name=like.content.name,
                format=SourceFormat(body.format) if body.format else like.content.format,
            )
            prepare = prepare_new_version if current is None else prepare_version_edit
            draft = prepare(
                session,
                composer=context.composer,
                campaign=campaign,
                content=content,
                language=language,
                images=image_context(context.settings, folder=None),
            )
        now = context.clock()
        with context.session() as session:  # the new version and its content, or neither
            author = author_of(key)
            if current is None:
                add_version(
                    session, campaign_id=campaign_id, language=language, author=author, now=now
                )
            kept = apply_version_edit(
                session, campaign_id=campaign_id, version=draft, author=author, now=now
            )
            if kept is None and current is None:  # the copy added says it: its first revision
                kept = list_revisions(session, campaign_id=campaign_id, language=language)[-1]
            campaign = get_campaign(session, campaign_id=campaign_id)
            details = version_details(session, campaign=campaign, composer=context.composer)
        saved = next(detail for detail in details if detail.language == language)
        if current is None:
            response.status_code = 201
        return SavedVersionOut(
            **saved.model_dump(),
            changed=kept is not None,
            revision=kept.number if kept is not None else None,
        )

    @router.delete(
        "/campaigns/{campaign_id}/versions/{language}",
        status_code=204,
        responses=error_responses(404, 409),
    )
    def delete_version(campaign_id: CampaignId, language: LanguageTag) -> Response:
        """Remove a translation of a draft; its recipients then get the default version.
        409 `default_version` for the default version, `not_a_draft` past its draft."""
        with context.session() as session:
            remove_version(session, campaign_id=campaign_id, language=language)
        return Response(status_code=204)

    return router
