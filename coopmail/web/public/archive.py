"""``/archive``: the campaigns staff chose to publish, ``/archive/<slug>`` each one as
sent (for nobody in particular: campaigns.archive), ``/archive/feed.xml`` their Atom feed.

A campaign's page is the mail's own HTML, so it gets the mail's policy (inline styles,
https images) tightened further: no script of any kind, no forms, no plugins, sandboxed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from html import escape

from babel import dates as babel_dates
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campaigns.archive import (
    ArchiveCache,
    ArchiveEntry,
    archive_entry,
    archive_html,
    archived_campaign,
    archived_campaigns,
    campaign_id_of,
)
from campaigns.errors import CampaignNotFound
from coopmail.web.i18n import LANGUAGE_NAMES, N_
from coopmail.web.public.site import PublicSite
from subscribers.lists import list_words
from subscribers.models import MailingList
from templates.catalogs import format_locale, gettext

ARCHIVE_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: "
    "data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
FEED_SIZE = 50
ARCHIVE_CACHE_SIZE = 128  # pages of campaigns with variants, kept rendered
_ATOM = "http://www.w3.org/2005/Atom"
OTHER_LANGUAGES = N_("This page in another language")


class ArchivePages:
    def __init__(self, site: PublicSite) -> None:
        self.site = site
        self.cache = ArchiveCache(size=ARCHIVE_CACHE_SIZE)

    def index_page(self, request: Request) -> Response:
        site = self.site
        language = site.language(request)
        list_name = request.query_params.get("list", "")[:100] or None
        with site.context.session(write=False) as session:
            lists = [
                (ml.name, list_words(ml, language=language).title)
                for ml in session.scalars(
                    select(MailingList)
                    .where(MailingList.is_public.is_(True))
                    .order_by(MailingList.title)
                )
            ]
            if list_name is not None and list_name not in dict(lists):
                return site.invalid(request, language)
            entries = archived_campaigns(session, list_name=list_name)
        locale = format_locale(language)
        feed = "/archive/feed.xml" + (f"?list={list_name}" if list_name else "")
        response = site.pages.render(
            request,
            "archive.html",
            language=language,
            switch=True,
            entries=entries,
            lists=lists,
            chosen=list_name,
            feed=feed,
            language_names=LANGUAGE_NAMES,
            day=lambda moment: babel_dates.format_date(moment, format="long", locale=locale),
        )
        del response.headers["X-Robots-Tag"]  # published on purpose: may be indexed
        return response

    def campaign_page(self, request: Request) -> Response:
        """``/archive/<slug>``: the default version; ``/archive/<slug>/<language>``: another
        one. Each names the others (``hreflang``) and links them, visibly too."""
        site = self.site
        slug = request.path_params.get("slug", "")[:200]
        asked = request.path_params.get("language")
        campaign_id = campaign_id_of(slug)
        if campaign_id is None:
            return site.invalid(request, site.language(request))
        with site.context.session(write=False) as session:
            try:
                campaign = archived_campaign(session, campaign_id=campaign_id)
            except CampaignNotFound:
                return site.invalid(request, site.language(request))
            entry = archive_entry(session, campaign)
            languages = [version.language for version in entry.versions]
            language = asked or entry.language
            if language not in languages:
                return site.invalid(request, site.language(request))
            path = entry.path(language)
            if request.url.path != path:
                return RedirectResponse(path, status_code=308)
            html = archive_html(
                site.context.composer,
                campaign,
                subscribe_url=f"{site.base_url}/subscribe"
                + ("" if language == entry.language else f"?lang={language}"),
                page_url=f"{site.base_url}{path}",
                session=session,
                language=None if language == entry.language else language,
                cache=self.cache,
            )
        html = with_versions(html, entry=entry, language=language, base_url=site.base_url)
        response = Response(html, media_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = ARCHIVE_POLICY
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    def feed(self, request: Request) -> Response:
        site = self.site
        list_name = request.query_params.get("list", "")[:100] or None
        with site.context.session(write=False) as session:
            entries = archived_campaigns(session, list_name=list_name, limit=FEED_SIZE)
        body = atom_feed(
            entries,
            base_url=site.base_url,
            title=site.unit.name,
            self_url=f"{site.base_url}{request.url.path}"
            + (f"?{request.url.query}" if request.url.query else ""),
        )
        return Response(
            body,
            media_type="application/atom+xml; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )


def atom_feed(entries: list[ArchiveEntry], *, base_url: str, title: str, self_url: str) -> bytes:
    """RFC 4287, written with ElementTree (which escapes every text and attribute)."""
    ET.register_namespace("", _ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{_ATOM}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{_ATOM}}}feed")
    add(feed, "id", f"{base_url}/archive")
    add(feed, "title", title)
    add(feed, "link", rel="self", href=self_url)
    add(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/archive")
    add(feed, "updated", _stamp(entries[0].sent_at) if entries else "1970-01-01T00:00:00Z")
    author = add(feed, "author")
    add(author, "name", title)
    for entry in entries:
        item = add(feed, "entry")
        add(item, "id", f"{base_url}/archive/{entry.id}")
        add(item, "title", entry.subject)
        # The default version is the entry's one alternate: readers differ on which of
        # several alternates they open (feedparser takes the last, others the first), so
        # the translations are related links, each with its hreflang; every page links
        # its other versions visibly too.
        for number, version in enumerate(entry.versions):
            add(
                item,
                "link",
                rel="alternate" if number == 0 else "related",
                type="text/html",
                href=f"{base_url}{entry.path(version.language)}",
                hreflang=version.language,
            )
        add(item, "updated", _stamp(entry.sent_at))
        add(item, "published", _stamp(entry.sent_at))
        if entry.preheader:
            add(item, "summary", entry.preheader)
        for list_title in entry.lists:
            add(item, "category", term=list_title)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_HEAD_END = re.compile(r"</head>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def with_versions(html: str, *, entry: ArchiveEntry, language: str, base_url: str) -> str:
    """The page with its other versions named in ``<head>`` (``hreflang``, for search
    engines and browsers) and linked at the top of the page, each in its own language."""
    if len(entry.versions) < 2:
        return html
    head = "".join(
        f'<link rel="alternate" hreflang="{v.language}" '
        f'href="{escape(base_url + entry.path(v.language))}">'
        for v in entry.versions
    )
    links = " &middot; ".join(
        f'<span lang="{v.language}" aria-current="page">{escape(LANGUAGE_NAMES[v.language])}</span>'
        if v.language == language
        else f'<a href="{escape(entry.path(v.language))}" hreflang="{v.language}" '
        f'lang="{v.language}">{escape(LANGUAGE_NAMES[v.language])}</a>'
        for v in entry.versions
        if v.language in LANGUAGE_NAMES
    )
    label = escape(gettext(OTHER_LANGUAGES, language=language))
    nav = (
        f'<nav aria-label="{label}" style="padding: 12px 24px; text-align: center; '
        f'font-family: Arial, Helvetica, sans-serif; font-size: 15px;">{links}</nav>'
    )
    html = _HEAD_END.sub(lambda found: head + found.group(0), html, count=1)
    return _BODY_START.sub(lambda found: found.group(0) + nav, html, count=1)
