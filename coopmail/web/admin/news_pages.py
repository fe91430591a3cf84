"""News items in the admin: listed by month, added, edited (with their words in the other
languages), deleted, and imported from a feed, a CSV file or a listing.

The same use cases as `coopmail news` (campaigns.news). An item without a link is flagged:
the digest has no "read more" under it. A feed is fetched before the write transaction
opens, and never from an address inside the unit's own network (staff typed it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from campaigns.news import (
    DuplicateNewsLink,
    InvalidNewsItem,
    NewsError,
    NewsImportSummary,
    NewsItem,
    NewsItemNotFound,
    add_item,
    decoded,
    edit_item,
    get_item,
    import_csv_text,
    import_feed,
    import_listing,
    list_items,
    month_label,
    months_with_items,
    parse_day,
    parse_month,
    remove_item,
    translate_item,
    untranslate_item,
)
from campaigns.news.files import FILE_BYTES_MAX
from coopmail.feeds import fetch_feed
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from coopmail.web.i18n import N_
from subscribers.languages import DEFAULT_LANGUAGE, LANGUAGES, writing_language

UPLOAD_MAX = FILE_BYTES_MAX
PAGE_SIZE = 500
IMPORT_KINDS = ("csv", "listing")

DATE_INVALID = N_("Choose the date the news was published.")
LINK_TAKEN = N_("News item %(id)s already has this address: edit that one instead.")
CONFIRM_DELETE = N_("Tick the box to confirm that this item is to be deleted.")
FEED_UNREADABLE = N_("This feed cannot be imported: %(detail)s")
CHOOSE_NEWS_FILE = N_("Choose a CSV file or a listing to import, and say which it is.")
FIELD_PROBLEMS: dict[tuple[str, str], str] = {
    ("title", "empty"): N_("Write a title: it is the headline partners read."),
    ("link", "empty"): N_("Give the address of the full story, starting with https://."),
}
PROBLEMS: dict[str, str] = {
    "empty": N_("Write something here."),
    "too_long": N_("Write at most %(limit)s characters here."),
    "control_character": N_(
        "Remove the invisible control characters (such as NUL) from this text."
    ),
    "not_web_address": N_(
        "Write an address that starts with https:// or http://, such as https://example.org/news."
    ),
    "not_language": N_("Write a language tag such as en, fr or pt-BR, or leave it empty."),
}
# The form's name of each field the use cases name.
_FORM_FIELDS = {"image": "image_url"}


@dataclass(kw_only=True)
class MonthGroup:
    key: str  # YYYY-MM
    label: str  # "November 2026", as the visit's language writes it
    items: list[dict[str, Any]] = field(default_factory=list)
    without_link: int = 0  # items with no "read more" in the digest


class NewsPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    # --- the list --------------------------------------------------------------------

    def news_page(self, visit: Visit) -> Response:
        return self._news(visit)

    def _news(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        imported: NewsImportSummary | None = None,
    ) -> Response:
        month = visit.query("month", 7)
        try:
            parse_month(month) if month else None
        except NewsError:
            month = ""
        with self.site.context.session(write=False) as session:
            items = list_items(session, month=month or None, limit=PAGE_SIZE)
            months = months_with_items(session)
            groups = self._groups(visit, items)
        return self.site.render(
            visit,
            "news.html",
            status=status,
            groups=groups,
            month=month,
            months=[(f"{y:04d}-{m:02d}", self._month_label(visit, y, m)) for y, m in months],
            without_link=sum(group.without_link for group in groups),
            errors=errors or {},
            values=values or {},
            imported=imported,
            kinds=IMPORT_KINDS,
        )

    def _groups(self, visit: Visit, items: list[NewsItem]) -> list[MonthGroup]:
        groups: list[MonthGroup] = []
        for item in items:
            key = item.published_on.strftime("%Y-%m")
            if not groups or groups[-1].key != key:
                label = self._month_label(visit, item.published_on.year, item.published_on.month)
                groups.append(MonthGroup(key=key, label=label))
            groups[-1].items.append(_row(item))
            groups[-1].without_link += not item.link
        return groups

    def _month_label(self, visit: Visit, year: int, month: int) -> str:
        return month_label(year, month, language=writing_language(visit.language))

    # --- add, edit, delete -------------------------------------------------------------

    def add(self, visit: Visit) -> Response:
        values = _values(visit)
        errors: dict[str, str] = {}
        published_on = self._day(visit, values, errors)
        if published_on is not None:
            try:
                with self.site.context.session() as session:
                    item = add_item(
                        session,
                        title=values["title"],
                        published_on=published_on,
                        link=values["link"],
                        summary=values["summary"],
                        category=values["category"],
                        image_url=values["image_url"] or None,
                        language=values["language"] or None,
                    )
                    self._record(session, visit, "news.added", item)
                    added = item.id
            except NewsError as error:
                errors.update(self._errors(visit, error))
        if errors:
            return self._news(visit, status=400, errors=errors, values=values)
        return self.site.redirect(f"/admin/news/{added}", done="news_added")

    def item_page(self, visit: Visit) -> Response:
        return self._item(visit)

    def _item(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        found = self.site.path_id(visit, "item_id")
        with self.site.context.session(write=False) as session:
            try:
                item = get_item(session, item_id=found)
            except NewsItemNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            row = _row(item)
        languages = [code for code in LANGUAGES if code != (row["language"] or DEFAULT_LANGUAGE)]
        shown = values or {
            **{key: str(row[key] or "") for key in ("title", "category", "summary")},
            "date": row["date"].isoformat(),
            "link": row["link"] or "",
            "image_url": row["image_url"] or "",
            "language": row["language"] or "",
            **{
                f"{part}_{code}": row["translations"].get(code, {}).get(part, "")
                for code in languages
                for part in ("title", "summary")
            },
        }
        return self.site.render(
            visit,
            "news-item.html",
            status=status,
            item=row,
            values=shown,
            errors=errors or {},
            translation_languages=languages,
        )

    def save(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "item_id")
        values = _values(visit)
        for code in LANGUAGES:
            values[f"title_{code}"] = visit.field(f"title_{code}", 400)
            values[f"summary_{code}"] = visit.field(f"summary_{code}", 12_000)
        errors: dict[str, str] = {}
        published_on = self._day(visit, values, errors)
        if published_on is not None:
            try:
                with self.site.context.session() as session:
                    item = edit_item(
                        session,
                        item_id=found,
                        title=values["title"],
                        published_on=published_on,
                        link=values["link"],
                        summary=values["summary"],
                        category=values["category"],
                        image_url=values["image_url"],
                        language=values["language"],
                    )
                    self._translate(session, visit, item, values, errors)
                    if errors:
                        raise _Refused
                    self._record(session, visit, "news.changed", item)
            except NewsItemNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            except NewsError as error:
                errors.update(self._errors(visit, error))
            except _Refused:
                pass
        if errors:
            return self._item(visit, status=400, errors=errors, values=values)
        return self.site.redirect(f"/admin/news/{found}", done="news_saved")

    def _translate(
        self,
        session: Session,
        visit: Visit,
        item: NewsItem,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> None:
        """The item's words in each other language: a title gives them, no title and no
        summary takes them away (that version shows the item's own words)."""
        for code in LANGUAGES:
            if code == (item.language or DEFAULT_LANGUAGE):
                continue
            title, summary = values[f"title_{code}"], values[f"summary_{code}"]
            if not title.strip() and not summary.strip():
                if code in (item.translations or {}):
                    untranslate_item(session, item_id=item.id, language=code)
                continue
            try:
                translate_item(
                    session, item_id=item.id, language=code, title=title, summary=summary
                )
            except InvalidNewsItem as error:
                message = self._problem(visit, error)
                errors[f"{error.field}_{code}"] = message

    def delete(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "item_id")
        if visit.field("confirm") != "yes":
            message = self.site.pages.say(visit, CONFIRM_DELETE)
            return self._item(visit, status=400, errors={"confirm": message})
        try:
            with self.site.context.session() as session:
                item = get_item(session, item_id=found)
                self._record(session, visit, "news.removed", item)
                remove_item(session, item_id=found)
        except NewsItemNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        return self.site.redirect("/admin/news", done="news_removed")

    # --- imports ---------------------------------------------------------------------

    def import_feed(self, visit: Visit) -> Response:
        url = visit.field("feed", 2000).strip()
        values = {"feed": url}
        try:
            data = fetch_feed(  # before the transaction: a slow server holds nothing
                url, allowed_networks=self.site.settings.fetch_allowed_networks
            )
            with self.site.context.session() as session:
                summary = import_feed(session, source=data, name=url)
                self._record_import(session, visit, "feed", url, summary)
        except NewsError as error:
            message = self.site.pages.say(visit, FEED_UNREADABLE, detail=str(error))
            return self._news(visit, status=400, errors={"feed": message}, values=values)
        return self._news(visit, imported=summary)

    def import_file(self, visit: Visit) -> Response:
        file = visit.form.get("file")
        kind = visit.field("kind", 20)
        if not isinstance(file, UploadFile) or not file.filename or kind not in IMPORT_KINDS:
            message = self.site.pages.say(visit, CHOOSE_NEWS_FILE)
            return self._news(visit, status=400, errors={"file": message})
        name = file.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
        try:
            text = decoded(file.file.read(UPLOAD_MAX + 1), name=name)
            with self.site.context.session() as session:
                if kind == "csv":
                    summary = import_csv_text(session, text=text, name=name)
                else:
                    summary = import_listing(session, text=text, name=name)
                self._record_import(session, visit, kind, name, summary)
        except NewsError as error:
            message = self.site.pages.say(visit, words.FILE_UNREADABLE, detail=str(error))
            return self._news(visit, status=400, errors={"file": message})
        return self._news(visit, imported=summary)

    # --- shared ----------------------------------------------------------------------

    def _day(self, visit: Visit, values: dict[str, str], errors: dict[str, str]) -> date | None:
        try:
            return parse_day(values["date"])
        except NewsError:
            errors["date"] = self.site.pages.say(visit, DATE_INVALID)
            return None

    def _errors(self, visit: Visit, error: NewsError) -> dict[str, str]:
        if isinstance(error, DuplicateNewsLink):
            return {"link": self.site.pages.say(visit, LINK_TAKEN, id=error.existing_id)}
        if isinstance(error, InvalidNewsItem):
            return {_FORM_FIELDS.get(error.field, error.field): self._problem(visit, error)}
        return {"title": str(error)}

    def _problem(self, visit: Visit, error: InvalidNewsItem) -> str:
        message = FIELD_PROBLEMS.get((error.field, error.problem), PROBLEMS[error.problem])
        return self.site.pages.say(visit, message, limit=error.limit)

    def _record(self, session: Session, visit: Visit, action: str, item: NewsItem) -> None:
        self.site.record(
            session,
            visit,
            action,
            target_type="news_item",
            target_id=item.id,
            details={"title": item.title, "link": item.link},
        )

    def _record_import(
        self, session: Session, visit: Visit, kind: str, name: str, summary: NewsImportSummary
    ) -> None:
        self.site.record(
            session,
            visit,
            "news.imported",
            target_type="news_source",
            target_id=f"{kind}:{name}"[:200],
            details={
                "added": summary.added,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "rejected": summary.rejected,
            },
        )


class _Refused(Exception):
    """A translation is wrong: nothing of the form is saved."""


def _values(visit: Visit) -> dict[str, str]:
    return {
        "title": visit.field("title", 400),
        "date": visit.field("date", 20),
        "link": visit.field("link", 2100),
        "category": visit.field("category", 200),
        "summary": visit.field("summary", 12_000),
        "image_url": visit.field("image_url", 2100),
        "language": visit.field("language", 40),
    }


def _row(item: NewsItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "date": item.published_on,
        "category": item.category,
        "summary": item.summary,
        "link": item.link,
        "image_url": item.image_url,
        "language": item.language,
        "translations": dict(item.translations or {}),
        "source": item.source,
    }
