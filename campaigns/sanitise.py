"""HTML campaign content through an allow-list sanitiser (nh3, Rust's ammonia).

Content written as HTML reaches every recipient and the view-in-browser page. What an email
layout needs stays: tables and their presentational attributes, inline styles (filtered to
presentational properties), images, links over http(s), mailto and tel. What does not
belong in a letter goes: scripts, forms, frames, embedded objects, <meta http-equiv>
(a refresh sends readers elsewhere), event handlers, javascript: and data: URLs.
"""

from __future__ import annotations

import nh3

_REMOVED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noscript",
        "template",
        "form",
        "textarea",
        "select",
        "button",
        "svg",
        "math",
        "title",
        "head",
    }
)
_TAGS = (set(nh3.ALLOWED_TAGS) | {"font"}) - {"details", "summary", "nav"}
_COMMON = {
    "style",
    "class",
    "id",
    "align",
    "valign",
    "dir",
    "lang",
    "title",
    "width",
    "height",
    "bgcolor",
    "role",
    "aria-label",
    "aria-hidden",
}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON,
    "a": {"href", "name", "target"},
    "img": {"src", "alt", "border", "width", "height"},  # Outlook reads no CSS width
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap", "scope"},
    "th": {"colspan", "rowspan", "nowrap", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "font": {"color", "face", "size"},
    "time": {"datetime"},
}
# Presentational CSS only: no position (overlays that mimic the unit's own buttons), no
# behaviour or expression() of old mail programs.
_STYLE_PROPERTIES = frozenset(
    {
        "color",
        "background",
        "background-color",
        "background-image",
        "background-position",
        "background-repeat",
        "background-size",
        "border",
        "border-top",
        "border-right",
        "border-bottom",
        "border-left",
        "border-color",
        "border-style",
        "border-width",
        "border-radius",
        "border-collapse",
        "border-spacing",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "width",
        "min-width",
        "max-width",
        "height",
        "min-height",
        "max-height",
        "display",
        "vertical-align",
        "text-align",
        "text-decoration",
        "text-transform",
        "text-indent",
        "font",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "line-height",
        "letter-spacing",
        "word-spacing",
        "white-space",
        "word-break",
        "word-wrap",
        "overflow-wrap",
        "list-style",
        "list-style-type",
        "list-style-position",
        "table-layout",
        "direction",
        "float",
        "clear",
        "opacity",
        "box-sizing",
    }
)


def sanitise_html(html: str) -> str:
    """``html`` with only what a letter may contain."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        strip_comments=True,
        link_rel="noopener noreferrer",
        filter_style_properties=set(_STYLE_PROPERTIES),
    )
