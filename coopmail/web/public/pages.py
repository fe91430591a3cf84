"""Render the public pages from templates/web/ in the visitor's language.

A plain Jinja2 environment (these templates are ours, not staff's) with autoescaping on and
the catalogs' words (``{% trans %}``, ``_()``) in the page's language; every page gets the
unit's texts in that language, the language links and a CSRF form token whose cookie is set
on the response.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from campaigns.compose import Unit
from coopmail.web.csrf import FIELD, CsrfGuard
from coopmail.web.i18n import LANGUAGE_NAMES
from subscribers.languages import LANGUAGES
from templates import TEMPLATES_DIR
from templates.catalogs import install, speaking

WEB_TEMPLATES: Path = TEMPLATES_DIR / "web"
STYLESHEET: Path = WEB_TEMPLATES / "static" / "site.css"
# The colours and type sizes the public pages, the admin and the mails share.
PALETTE: Path = WEB_TEMPLATES / "static" / "palette.css"


class Pages:
    def __init__(self, *, unit: Callable[[], Unit], csrf: CsrfGuard) -> None:
        self.unit = unit  # read for every page: staff may change its texts in the admin
        self.csrf = csrf
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(WEB_TEMPLATES)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # package data: no stat of every template on every request
        )
        install(self.environment)

    def render(
        self,
        request: Request,
        template: str,
        *,
        language: str,
        status: int = 200,
        switch: bool = False,
        **context: Any,
    ) -> HTMLResponse:
        """The page; ``switch`` offers it in the other languages (GET pages only, as the
        links lead to the same address)."""
        cookie = self.csrf.cookie_value(request)
        with speaking(language):
            html = self.environment.get_template(template).render(
                lang=language,
                languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
                unit=self.unit().as_context(language),
                csrf_field=FIELD,
                csrf_token=self.csrf.form_token(cookie),
                switch=switch,
                **context,
            )
        response = HTMLResponse(html, status_code=status)
        self.csrf.set_cookie(response, cookie)
        # Pages reached through a personal link must never be indexed.
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response
