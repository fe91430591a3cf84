"""What every route needs, built once by `coopmail serve` (or a test) and passed down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.media.store import MediaStore
from coopmail.config import Settings
from coopmail.db import session_scope
from coopmail.media import media_store
from subscribers.base import utcnow


@dataclass(kw_only=True)
class WebContext:
    engine: Engine
    settings: Settings
    composer: Composer
    health: Callable[[], dict[str, Any]] = field(default=lambda: {"status": "ok"})
    # Every time a request needs (session expiry, rate limits); tests pass their own.
    clock: Callable[[], datetime] = utcnow

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session committed when the block succeeds, rolled back otherwise."""
        with session_scope(self.engine, write=write) as session:
            yield session

    def media(self) -> MediaStore:
        """Where the media library's files are kept."""
        return media_store(self.settings)
