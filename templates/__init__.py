"""The e-mail templates: Jinja2 files, plus sample content in Markdown.

This package is data. The campaign composer loads it with a
``jinja2.sandbox.SandboxedEnvironment(autoescape=True)`` and a ``FileSystemLoader`` on
``TEMPLATES_DIR``, renders a campaign once, inlines its CSS once with premailer and then fills
the per-recipient slots.

Layout of the folder:

- ``email/base.html`` and ``email/base.txt``: the layouts every mail extends.
- ``email/<kind>.html`` and ``email/<kind>.txt`` for each of ``CAMPAIGN_KINDS``.
- ``email/system/<name>.html`` and ``email/system/<name>.txt`` for each of ``SYSTEM_MAILS``,
  and ``email/system/_system``, the layout they share (no web copy, so no "view in your
  browser").
- ``email/_macros.html`` and ``email/_macros.txt``: shared pieces (the bulletproof button,
  wrapped paragraphs and list items).
- ``web/``: the public pages, their stylesheet in ``web/static/``.
- ``locale/``: the gettext catalogs of our words (``catalogs.py`` loads them): every template
  here writes its words in English inside ``{% trans %}`` or ``_()``, and renders in the
  language of the mail or the page.
- ``samples/<kind>.md``: sample campaigns (YAML front matter, Markdown body) and
  ``samples/about.md``, a one-paragraph about text for the built-in unit (and
  ``samples/about.<language>.md``, the same in that language).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CAMPAIGN_KINDS", "SYSTEM_MAILS", "TEMPLATES_DIR", "sample_path"]

TEMPLATES_DIR: Path = Path(__file__).resolve().parent
"""This folder: give it to a ``jinja2.FileSystemLoader``."""

CAMPAIGN_KINDS: tuple[str, ...] = ("solidarity-letter", "feature", "news-article", "digest")
"""Campaign templates: ``email/<kind>.html`` and ``email/<kind>.txt``."""

SYSTEM_MAILS: tuple[str, ...] = ("confirm-subscription", "welcome", "unsubscribed")
"""Transactional mails: ``email/system/<name>.html`` and ``email/system/<name>.txt``."""


def sample_path(kind: str) -> Path:
    """The sample campaign for a kind: ``samples/<kind>.md``.

    Raises ValueError for a name that is not one of ``CAMPAIGN_KINDS``.
    """
    if kind not in CAMPAIGN_KINDS:
        known = ", ".join(CAMPAIGN_KINDS)
        raise ValueError(f"no sample for {kind!r}: the campaign kinds are {known}")
    return TEMPLATES_DIR / "samples" / f"{kind}.md"
