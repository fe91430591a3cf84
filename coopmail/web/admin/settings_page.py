"""The effective configuration, as `coopmail config show` prints it: secrets masked, each
value with where it came from. Read-only: settings live in the environment or the file."""

from __future__ import annotations

from starlette.responses import Response

from coopmail.config import OPTIONS
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite


class SettingsPage:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def settings_page(self, visit: Visit) -> Response:
        settings = self.site.settings
        helps = {option.key: option.help for option in OPTIONS}
        rows = [
            {
                "key": key,
                "value": ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value),
                "unset": value is None,
                "source": settings.sources.get(key, ""),
                "help": helps.get(key, ""),
            }
            for key, value in settings.masked().items()
        ]
        return self.site.render(
            visit,
            "settings.html",
            rows=rows,
            config_file=str(settings.config_file) if settings.config_file else None,
        )
