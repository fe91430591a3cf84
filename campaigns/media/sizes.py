"""The size of each library image, for the ``width`` and ``height`` a mail's Markdown
images get (campaigns.content.markdown_to_html): Outlook for Windows reads no CSS width.

The composer asks by URL while it renders, long after the references were resolved, so
this looks the image up on a short session of its own. A library file's name is its
content's hash: a size found never changes and is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.media.library import find_by_file_name, library_name

_KEPT_MAX = 4096


class LibrarySizes:
    """``(width, height)`` of the library image a URL names; None for any other URL.
    ``engine`` is asked for at the first library URL, so that rendering without one (a
    template's sample) needs no database."""

    def __init__(self, *, engine: Callable[[], Engine], base_url: str) -> None:
        self._engine = engine
        self._base_url = base_url
        self._lock = threading.Lock()  # the web's pages render in a thread pool
        self._kept: dict[str, tuple[int, int]] = {}

    def __call__(self, url: str) -> tuple[int, int] | None:
        name = library_name(url, base_url=self._base_url)
        if name is None:
            return None
        with self._lock:
            kept = self._kept.get(name)
        if kept is not None:
            return kept
        with Session(self._engine()) as session:
            item = find_by_file_name(session, name=name)
            if item is None:
                return None
            size = (
                (item.email_width, item.email_height)
                if name == item.email_name
                else (item.width, item.height)
            )
        with self._lock:
            if len(self._kept) >= _KEPT_MAX:
                self._kept.clear()
            self._kept[name] = size
        return size
