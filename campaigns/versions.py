"""One campaign in several languages: the default version and its translations.

The default version is the campaign itself (its subject, preheader, body and kind fields);
each other language is a ``CampaignVersion`` with its own. The template, the lists and the
sender are the campaign's, the same for every version: a translation says the same thing
to the same people, in another language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import Content
from campaigns.drafts import (
    DraftCampaign,
    _address,
    _list_names,
    _optional_text,
    _subject,
    _text,
    get_campaign,
    prepare_campaign,
    store_campaign,
)
from campaigns.editing import check_editable
from campaigns.errors import (
    ContentError,
    DefaultVersion,
    DraftOnly,
    VersionExists,
    VersionNotFound,
)
from campaigns.media.references import ImageContext, ResolvedImages, keep_images, resolve_images
from campaigns.models import (
    Campaign,
    CampaignRevision,
    CampaignStatus,
    CampaignVersion,
    SourceFormat,
)
from campaigns.revisions import (
    content_text,
    latest_revision,
    list_revisions,
    record_version_revision,
)
from campaigns.senders import Sender
from subscribers.base import utcnow
from subscribers.errors import InvalidLanguage
from subscribers.languages import check_language


@dataclass(frozen=True, kw_only=True)
class Version:
    """The campaign as written in one language, whichever table holds it."""

    language: str
    subject: str
    preheader: str
    content: Content
    updated_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class DraftVersion:
    """A translation checked and rendered once, not yet stored."""

    language: str
    subject: str
    preheader: str
    content: Content
    # The images a single translation's save brought (``prepare_version_edit``).
    images: ResolvedImages | None = None


@dataclass(frozen=True, kw_only=True)
class DraftInLanguages:
    """A campaign and its translations, checked and rendered, not yet stored."""

    draft: DraftCampaign
    versions: list[DraftVersion]
    # The images the translations brought (the default version's are in ``draft``).
    images: tuple[ResolvedImages, ...] = ()


def prepare_in_languages(
    session: Session,
    *,
    composer: Composer,
    contents: Sequence[Content],
    default_sender: str,
    template: str | None = None,
    list_names: list[str] | None = None,
    subject: str | None = None,
    images: Sequence[ImageContext] | None = None,
    senders: Sequence[Sender] = (),
) -> DraftInLanguages:
    """The first content is the default version (``prepare_campaign`` checks it, with the
    template, lists and subject given here); each other one a translation of it.

    With ``images`` (one context per content: a file's images are found beside it), every
    version's images are resolved as the default version's are."""
    draft = prepare_campaign(
        session,
        composer=composer,
        content=contents[0],
        default_sender=default_sender,
        template=template,
        list_names=list_names,
        subject=subject,
        images=images[0] if images else None,
        senders=senders,
    )
    translations = list(contents[1:])
    resolved: list[ResolvedImages] = []
    if images:
        for index, context in enumerate(images[1:]):
            found = resolve_images(session, content=translations[index], context=context)
            translations[index] = found.content
            resolved.append(found)
    return DraftInLanguages(
        draft=draft,
        versions=prepare_versions(composer=composer, draft=draft, contents=translations),
        images=tuple(resolved),
    )


def store_in_languages(
    session: Session, *, prepared: DraftInLanguages, author: str = "", now: datetime | None = None
) -> Campaign:
    """Store the campaign and its translations, each with its first revision."""
    campaign = store_campaign(session, draft=prepared.draft, author=author, now=now)
    for found in prepared.images:
        keep_images(session, resolved=found, now=utcnow())
    stored = store_versions(session, campaign=campaign, versions=prepared.versions)
    for row in stored:
        record_translation(session, row=row, author=author, now=now or campaign.created_at)
    return campaign


def default_version(campaign: Campaign) -> Version:
    return Version(
        language=campaign.language,
        subject=campaign.subject,
        preheader=campaign.preheader,
        content=_content(
            campaign.source_name, campaign.source_format, campaign.body, campaign.meta
        ),
        updated_at=campaign.updated_at,
    )


def campaign_versions(session: Session, *, campaign: Campaign) -> list[Version]:
    """Every version of ``campaign``: the default first, then the others by language."""
    others = session.scalars(
        select(CampaignVersion)
        .where(CampaignVersion.campaign_id == campaign.id)
        .order_by(CampaignVersion.language)
    )
    return [default_version(campaign), *(_translation(row) for row in others)]


def _translation(row: CampaignVersion) -> Version:
    return Version(
        language=row.language,
        subject=row.subject,
        preheader=row.preheader,
        content=_content(row.source_name, row.source_format, row.body, row.meta),
        updated_at=row.updated_at,
    )


def record_translation(
    session: Session,
    *,
    row: CampaignVersion,
    author: str,
    now: datetime,
    restored_from: int | None = None,
) -> CampaignRevision:
    """Keep the translation ``row`` as it now stands as the campaign's next revision,
    its source as ``version_source`` gives it: what a file of it would hold."""
    return record_version_revision(
        session,
        campaign_id=row.campaign_id,
        language=row.language,
        source_format=row.source_format,
        source=version_source(_translation(row)),
        author=author,
        now=now,
        restored_from=restored_from,
    )


def prepare_versions(
    *, composer: Composer, draft: DraftCampaign, contents: Sequence[Content]
) -> list[DraftVersion]:
    """Check the translations of ``draft`` and render each once, so that their errors
    surface now. Each names its language; what every version shares (template, lists,
    sender) may be left out, or must be the same as in the default."""
    seen = {draft.language: draft.content.name}
    versions = []
    for content in contents:
        header = content.header
        language = _version_language(header.get("language"), content)
        if language in seen:
            raise ContentError(
                f"the language {language} already has a version ({seen[language]})",
                source=content.name,
                line=2,
            )
        seen[language] = content.name
        _same(header.get("template"), draft.template, "template", content)
        if header.get("lists") is not None:
            _same(_list_names(header["lists"], content), draft.list_names, "lists", content)
        if header.get("from") is not None:
            _same(_address(header["from"], "from", content), draft.sender, "from", content)
        if header.get("reply_to") is not None:
            reply_to = _address(header["reply_to"], "reply_to", content)
            _same(reply_to, draft.reply_to, "reply_to", content)
        subject = _subject(_text(header.get("subject"), "subject", content), content)
        preheader = _optional_text(header.get("preheader"), "preheader", content) or ""
        composer.compose(
            content=content,
            template=draft.template,
            subject=subject,
            preheader=preheader,
            language=language,
        )
        versions.append(
            DraftVersion(language=language, subject=subject, preheader=preheader, content=content)
        )
    return versions


def store_versions(
    session: Session, *, campaign: Campaign, versions: Sequence[DraftVersion]
) -> list[CampaignVersion]:
    rows = [
        CampaignVersion(
            campaign_id=campaign.id,
            language=version.language,
            subject=version.subject,
            preheader=version.preheader,
            source_format=version.content.format,
            source_name=version.content.name,
            body=version.content.body,
            meta=version.content.meta,
        )
        for version in versions
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _version_language(value: object, content: Content) -> str:
    text = _optional_text(value, "language", content)
    try:
        language = check_language(text or "")
    except InvalidLanguage as error:
        raise ContentError(str(error), source=content.name, line=2) from None
    if language is None:
        raise ContentError(
            "a translation names its language: add `language: fr` (or es, en...) to the "
            "front matter",
            source=content.name,
            line=2,
        )
    return language


def _same(value: object, expected: object, key: str, content: Content) -> None:
    if value is not None and value != expected:
        raise ContentError(
            f"{key} is {value!r} here but {expected!r} in the default version; every "
            f"version shares the default's {key}, so leave it out or make it the same",
            source=content.name,
            line=2,
        )


def _content(name: str, fmt: SourceFormat, body: str, meta: dict[str, Any]) -> Content:
    return Content(name=name, format=fmt, body=body, body_line=1, meta=meta)


# --- one version at a time: what the studio's tabs do ------------------------------------


def add_version(
    session: Session, *, campaign_id: int, language: str, author: str, now: datetime
) -> CampaignVersion:
    """A new version of a draft in ``language``, one per language. It starts as a copy of
    the default version, to be translated: a version is never empty. That copy is its
    first revision, as a campaign's first is the campaign as created."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    check_editable(campaign)
    tag = _language_tag(language, source=campaign.source_name)
    if tag in (v.language for v in campaign_versions(session, campaign=campaign)):
        raise VersionExists(campaign_id=campaign_id, language=tag)
    row = CampaignVersion(
        campaign_id=campaign.id,
        language=tag,
        subject=campaign.subject,
        preheader=campaign.preheader,
        source_format=campaign.source_format,
        source_name=campaign.source_name,
        body=campaign.body,
        meta=dict(campaign.meta),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    record_translation(session, row=row, author=author, now=now)
    return row


def prepare_version_edit(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    content: Content,
    language: str | None = None,
    images: ImageContext | None = None,
) -> DraftVersion:
    """Check and render new content for one translation of ``campaign`` (its front matter
    names the language), as ``prepare_versions`` checks every translation: the default
    version and the other translations are not read, and so cannot be changed.

    With ``language``, the content was given for that version (a file, a URL's
    language): its front matter names the same language or none. With ``images``, its
    images are resolved as the default version's are when it is saved: a translation
    cannot bring in an http:// image or a missing file either."""
    check_editable(campaign)
    content = _for_language(content, language)
    tag = _version_language(content.header.get("language"), content)
    _get_version_row(session, campaign=campaign, language=tag)
    return _prepare_translation(
        session, composer=composer, campaign=campaign, content=content, images=images
    )


def prepare_new_version(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    content: Content,
    language: str | None = None,
    images: ImageContext | None = None,
) -> DraftVersion:
    """Check and render the content of a translation ``campaign`` does not have yet, as
    ``prepare_version_edit`` does for one it has, so that a mistake in it adds nothing:
    ``add_version`` then ``apply_version_edit``, in one transaction, store it."""
    check_editable(campaign)
    content = _for_language(content, language)
    tag = _version_language(content.header.get("language"), content)
    if tag in (v.language for v in campaign_versions(session, campaign=campaign)):
        raise VersionExists(campaign_id=campaign.id, language=tag)
    return _prepare_translation(
        session, composer=composer, campaign=campaign, content=content, images=images
    )


def _prepare_translation(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    content: Content,
    images: ImageContext | None,
) -> DraftVersion:
    resolved = resolve_images(session, content=content, context=images) if images else None
    if resolved is not None:
        content = resolved.content
    shared = DraftCampaign(
        content=default_version(campaign).content,
        template=campaign.template,
        list_names=[mailing_list.name for mailing_list in campaign.lists],
        subject=campaign.subject,
        preheader=campaign.preheader,
        sender=campaign.from_address,
        reply_to=campaign.reply_to,
        language=campaign.language,
    )
    prepared = prepare_versions(composer=composer, draft=shared, contents=[content])[0]
    return replace(prepared, images=resolved)


def apply_version_edit(
    session: Session,
    *,
    campaign_id: int,
    version: DraftVersion,
    author: str,
    now: datetime,
    restored_from: int | None = None,
) -> CampaignRevision | None:
    """Save a prepared translation: only that version's row changes, and is kept as a
    new revision. Returns it, or None when nothing changed (an autosave of what is saved
    already leaves its time and its revisions as they were); a restore always stores one.

    A translation saved before translations had revisions gets its text as it stood
    kept first (its author unknown, at its last save), so that no save loses a text."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    check_editable(campaign)
    row = _get_version_row(session, campaign=campaign, language=version.language)
    if version.images is not None:
        keep_images(session, resolved=version.images, now=now)
    content = version.content
    new = (version.subject, version.preheader, content.format, content.body, content.meta)
    if restored_from is None and new == (
        row.subject,
        row.preheader,
        row.source_format,
        row.body,
        row.meta,
    ):
        return None
    if not list_revisions(session, campaign_id=campaign_id, language=row.language):
        record_translation(session, row=row, author="", now=row.updated_at)
    row.subject, row.preheader = version.subject, version.preheader
    row.source_format, row.source_name = content.format, content.name
    row.body, row.meta = content.body, dict(content.meta)
    row.updated_at = now
    session.flush()
    return record_translation(session, row=row, author=author, now=now, restored_from=restored_from)


def remove_version(session: Session, *, campaign_id: int, language: str) -> None:
    """Remove one translation of a draft; the default version is the campaign itself.

    Its revisions stay, as they go only with the campaign: they are still read and
    compared, and once the language is added again one of them can be restored."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    if campaign.status is not CampaignStatus.DRAFT:
        raise DraftOnly(campaign_id=campaign.id, status=campaign.status.value, action="delete")
    session.delete(_get_version_row(session, campaign=campaign, language=language))
    session.flush()


def version_changed_at(session: Session, *, campaign_id: int, language: str) -> datetime:
    """When the translation in ``language`` was last saved."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    return _get_version_row(session, campaign=campaign, language=language).updated_at


def default_changed_at(session: Session, *, campaign: Campaign) -> datetime:
    """When the default version's content was last saved (its newest revision)."""
    newest = latest_revision(session, campaign_id=campaign.id)
    return newest.created_at if newest is not None else campaign.updated_at


def older_than_default(session: Session, *, campaign: Campaign) -> list[str]:
    """The translations last changed before the default version was: they may no longer
    say what it says."""
    changed = default_changed_at(session, campaign=campaign)
    return [
        version.language
        for version in campaign_versions(session, campaign=campaign)[1:]
        if version.updated_at is not None and version.updated_at < changed
    ]


def version_source(version: Version) -> str:
    """One translation as a content file holds it, to edit and save again: what it has of
    its own (subject, preheader, language, the kind's fields, the body)."""
    header = {
        "subject": version.subject,
        "preheader": version.preheader or None,
        "language": version.language,
    }
    return content_text(
        header={k: v for k, v in header.items() if v is not None},
        meta=version.content.meta,
        body=version.content.body,
    )


def _language_tag(language: str, *, source: str) -> str:
    try:
        tag = check_language(language)
    except InvalidLanguage:
        tag = None
    if tag is None:
        raise ContentError(f"{language!r} is not a language tag such as fr or es", source=source)
    return tag


def _for_language(content: Content, language: str | None) -> Content:
    """``content`` as the version in ``language``: a front matter without ``language:``
    is taken as that one; one naming another is refused rather than guessed between."""
    if language is None:
        return content
    tag = _language_tag(language, source=content.name)
    named = content.header.get("language")
    if named is None:
        return replace(content, header={**content.header, "language": tag})
    if _version_language(named, content) != tag:
        raise ContentError(
            f"the front matter says `language: {named}` but this is the {tag} version; "
            "make them the same or leave `language:` out",
            source=content.name,
            line=2,
        )
    return content


def _get_version_row(session: Session, *, campaign: Campaign, language: str) -> CampaignVersion:
    """The row of the translation in ``language``; the default version has none."""
    if language == campaign.language:
        raise DefaultVersion(campaign_id=campaign.id, language=language)
    row = session.scalar(
        select(CampaignVersion).where(
            CampaignVersion.campaign_id == campaign.id, CampaignVersion.language == language
        )
    )
    if row is None:
        languages = [v.language for v in campaign_versions(session, campaign=campaign)]
        raise VersionNotFound(campaign_id=campaign.id, language=language, languages=languages)
    return row
