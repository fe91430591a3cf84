"""What every command shares: settings, the engine and sessions, loaded on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.media.references import ImageContext
from campaigns.media.sizes import LibrarySizes
from coopmail.config import Settings, load_settings
from coopmail.db import make_engine, require_current_schema, session_scope, snapshot_scope
from coopmail.media import image_context
from coopmail.unit_texts import StoredUnitTexts


@dataclass
class App:
    config_file: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # settings given as flags
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)
    _composer: Composer | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_file=self.config_file, overrides=self.overrides)
        return self._settings

    def override(self, key: str, value: str) -> None:
        """A setting given as a command-line flag (`serve --capture`): above everything."""
        if self._engine is not None:
            raise RuntimeError("settings are fixed once the database is in use")
        self.overrides[key] = value
        self._settings = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def composer(self) -> Composer:
        if self._composer is None:
            self._composer = Composer(
                templates_dir=self.settings.templates_dir,
                image_sizes=LibrarySizes(
                    engine=lambda: self.engine, base_url=self.settings.base_url
                ),
                unit_texts=StoredUnitTexts(self.engine),  # what owners set in the admin
            )
        return self._composer

    def images_beside(
        self, content_path: Path, *, check_remote: bool, copy_remote: bool = False
    ) -> ImageContext:
        """How a content file's images are resolved: local ones are found beside it (and go
        into the media library), remote ones checked unless working offline."""
        return image_context(
            self.settings,
            folder=content_path.resolve().parent,
            check_remote=check_remote,
            copy_remote=copy_remote,
        )

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session on an up-to-date schema, committed when the block succeeds; with
        ``write=False`` it never takes SQLite's write lock (for reading and rendering)."""
        self._check_schema()
        with session_scope(self.engine, write=write) as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session on one consistent state of the database (exports)."""
        self._check_schema()
        with snapshot_scope(self.engine) as session:
            yield session

    def _check_schema(self) -> None:
        if not self._schema_checked:
            require_current_schema(self.engine)
            self._schema_checked = True

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
