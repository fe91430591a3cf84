"""The admin's pages from templates/web/admin/, in the staff member's language.

Its own Jinja2 environment (the pages are ours, not staff's), autoescaped, with the
catalogs' words and Babel's dates and numbers; every page gets the unit, the navigation
the person's role allows, the CSRF token (the session's, or before login the signed
cookie's) and the notice a redirect asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import dates as babel_dates
from starlette.responses import HTMLResponse, Response

from campaigns.compose import Unit
from coopmail.staff.roles import Permission
from coopmail.web.admin import studio_words, words
from coopmail.web.admin.access import Visit
from coopmail.web.csrf import FIELD, CsrfGuard
from coopmail.web.i18n import LANGUAGE_NAMES
from coopmail.web.security import ADMIN_POLICY
from subscribers.languages import LANGUAGES, writing_language
from templates import TEMPLATES_DIR
from templates.catalogs import format_locale, gettext, install, speaking

ADMIN_TEMPLATES: Path = TEMPLATES_DIR / "web" / "admin"

# The navigation: where, its words, and the permission that shows it.
NAVIGATION: tuple[tuple[str, str, Permission], ...] = (
    ("/admin/", words.NAV_DASHBOARD, Permission.READ),
    ("/admin/campaigns", words.NAV_CAMPAIGNS, Permission.READ),
    ("/admin/lists", words.NAV_LISTS, Permission.READ),
    ("/admin/subscribers", words.NAV_SUBSCRIBERS, Permission.READ),
    ("/admin/imports", words.NAV_IMPORTS, Permission.READ),
    ("/admin/media", words.NAV_MEDIA, Permission.COMPOSE),
    ("/admin/news", words.NAV_NEWS, Permission.READ),
    ("/admin/suppressions", words.NAV_SUPPRESSIONS, Permission.READ),
    ("/admin/bounces", words.NAV_BOUNCES, Permission.READ),
    ("/admin/apikeys", words.NAV_APIKEYS, Permission.MANAGE_APIKEYS),
    ("/admin/staff", words.NAV_STAFF, Permission.MANAGE_STAFF),
    ("/admin/audit", words.NAV_AUDIT, Permission.READ_AUDIT),
    ("/admin/settings", words.NAV_SETTINGS, Permission.MANAGE_SETTINGS),
)


class AdminPages:
    def __init__(self, *, unit: Callable[[], Unit], csrf: CsrfGuard, timezone: str) -> None:
        self.unit = unit  # read for every page: owners may change its texts
        self.csrf = csrf
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(ADMIN_TEMPLATES)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        install(self.environment)

    def render(
        self,
        visit: Visit,
        template: str,
        *,
        status: int = 200,
        notice: str | None = None,
        **context: Any,
    ) -> Response:
        language = writing_language(visit.language)
        staff = visit.staff
        cookie = None
        if staff is not None:
            csrf_token = staff.csrf_token
        else:
            cookie = self.csrf.cookie_value(visit.request)
            csrf_token = self.csrf.form_token(cookie)
        done = words.NOTICES.get(visit.query("done"))
        path = visit.request.url.path
        navigation = [
            (href, label, path == href or (href != "/admin/" and path.startswith(href)))
            for href, label, permission in NAVIGATION
            if staff is not None and staff.may(permission)
        ]
        with speaking(language):
            html = self.environment.get_template(template).render(
                lang=language,
                languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
                unit=self.unit().as_context(language),
                staff=staff,
                navigation=navigation,
                csrf_field=FIELD,
                csrf_token=csrf_token,
                notice=notice or done,
                path=path,
                when=self.when_formatter(language),
                day=self.day_formatter(language),
                zone=self.timezone,
                words=words,
                studio_words=studio_words,
                Permission=Permission,
                **context,
            )
        response = HTMLResponse(html, status_code=status)
        if cookie is not None:
            self.csrf.set_cookie(response, cookie)
        response.headers["Content-Security-Policy"] = ADMIN_POLICY
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def problem(self, visit: Visit, *, status: int, problem: str) -> Response:
        """A page saying why the request was refused, and what to do."""
        return self.render(
            visit,
            "problem.html",
            status=status,
            problem=words.PROBLEMS[problem],
            problem_title=words.PROBLEM_TITLES[problem],
        )

    def say(self, visit: Visit, message: str, **values: object) -> str:
        """A code message (a msgid of :mod:`words`) in the visit's language."""
        return gettext(message, language=writing_language(visit.language), **values)

    def when_formatter(self, language: str) -> Callable[[datetime | None], str]:
        locale = format_locale(language)

        def when(moment: datetime | None) -> str:
            if moment is None:
                return "—"
            local = moment.astimezone(self.zone)
            pattern = str(locale.datetime_formats["medium"])
            written_day = babel_dates.format_date(local.date(), format="medium", locale=locale)
            written_time = babel_dates.format_time(local.time(), format="short", locale=locale)
            return pattern.replace("{1}", written_day).replace("{0}", written_time)

        return when

    def day_formatter(self, language: str) -> Callable[[date], str]:
        locale = format_locale(language)

        def day(value: date) -> str:
            return babel_dates.format_skeleton("MMMd", value, locale=locale)

        return day
