"""What every command shares: settings, the engine and sessions, loaded on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from coopmail.config import Settings, load_settings
from coopmail.db import make_engine, require_current_schema, session_scope


@dataclass
class App:
    config_file: Path | None = None
    database_url: str | None = None  # set by `coopmail demo` to its own database
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)
    _composer: Composer | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_file=self.config_file)
        return self._settings

    def use_settings(self, settings: Settings) -> None:
        """Settings changed for this run only (`serve --capture` points SMTP at its server)."""
        self._settings = settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url or self.settings.database_url)
        return self._engine

    @property
    def composer(self) -> Composer:
        if self._composer is None:
            self._composer = Composer(templates_dir=self.settings.templates_dir)
        return self._composer

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on an up-to-date schema, committed when the block succeeds."""
        if not self._schema_checked:
            require_current_schema(self.engine)
            self._schema_checked = True
        with session_scope(self.engine) as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
