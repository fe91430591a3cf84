"""The web application served by `coopmail serve`: public pages, the JSON API, /health."""

from coopmail.web.app import create_app
from coopmail.web.context import WebContext

__all__ = ["WebContext", "create_app"]
