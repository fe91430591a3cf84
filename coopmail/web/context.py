"""What every route needs, built once by `coopmail serve` (or a test) and passed down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from coopmail.config import Settings
from coopmail.db import session_scope


@dataclass(kw_only=True)
class WebContext:
    engine: Engine
    settings: Settings
    composer: Composer
    health: Callable[[], dict[str, Any]] = field(default=lambda: {"status": "ok"})

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session committed when the block succeeds, rolled back otherwise."""
        with session_scope(self.engine, write=write) as session:
            yield session
