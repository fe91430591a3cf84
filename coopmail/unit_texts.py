"""The unit's texts as its owners set them, per language: name, department, address, about,
place and signature, kept in the database over what unit.toml (or the built-in unit) says.

The admin's settings page and ``coopmail unit set`` both call :func:`set_unit_texts`; the
composer reads the stored texts through :class:`StoredUnitTexts` (``Composer(unit_texts=)``),
so the letterhead, the footers, the public pages and the archive of a running ``serve`` or
``worker`` follow a change within seconds, without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaigns.compose import TRANSLATABLE, Composer
from coopmail.errors import CoopmailError
from coopmail.staff import audit
from coopmail.staff.roles import Actor, Permission, require
from subscribers.base import Base, JsonType, UTCDateTime
from subscribers.languages import LANGUAGES

TEXT_MAX = 200  # a line: the name, the department, the place, a line of address or signature
ABOUT_MAX = 2000
LINES_MAX = 6
LINES = frozenset({"address_lines", "signature"})
FIELDS: tuple[str, ...] = TRANSLATABLE
TEXTS_CHANGED = "unit.texts_changed"


class UnitText(Base):
    """One language's texts: only those set here; the others come from unit.toml."""

    __tablename__ = "unit_texts"

    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    texts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(320), default="")


class UnitTextInvalid(CoopmailError):
    """A text that cannot be the unit's: names the language, the field and the limit."""

    def __init__(self, *, language: str, field: str, problem: str, limit: int = 0) -> None:
        self.language, self.field, self.problem, self.limit = language, field, problem, limit
        most = f" (at most {limit})" if limit else ""
        super().__init__(f"the unit's {field} in {language}: {problem}{most}")


def stored_unit_texts(session: Session) -> dict[str, dict[str, Any]]:
    """Every language's stored texts (lines as tuples), as ``Unit.with_texts`` takes them."""
    return {
        row.language: {
            key: tuple(value) if key in LINES else value
            for key, value in row.texts.items()
            if key in FIELDS
        }
        for row in session.scalars(select(UnitText).order_by(UnitText.language))
    }


def set_unit_texts(
    session: Session,
    *,
    actor: Actor,
    language: str,
    texts: Mapping[str, str | Sequence[str]],
    now: datetime,
) -> dict[str, Any]:
    """Set ``language``'s texts given in ``texts``; an empty one is unset (unit.toml's
    words again). Checks every text before it writes any, and records the change. Returns
    what the language now has stored."""
    require(actor, Permission.MANAGE_SETTINGS)
    if language not in LANGUAGES:
        raise UnitTextInvalid(
            language=language, field="language", problem=f"one of {', '.join(LANGUAGES)}"
        )
    checked = {key: _checked(language, key, value) for key, value in texts.items()}
    row = session.get(UnitText, language)
    before = dict(row.texts) if row is not None else {}
    after = {k: v for k, v in {**before, **checked}.items() if v}
    if after == before:
        return after
    if row is None:
        row = UnitText(language=language, texts=after, updated_at=now, updated_by=actor.label)
        session.add(row)
    else:
        row.texts, row.updated_at, row.updated_by = after, now, actor.label
    changed = {key: after.get(key, "") for key in FIELDS if after.get(key) != before.get(key)}
    audit.record(
        session,
        actor=actor,
        action=TEXTS_CHANGED,
        now=now,
        target_type="unit",
        target_id=language,
        details={"language": language, "changed": changed},
    )
    session.flush()
    return after


def _checked(language: str, key: str, value: str | Sequence[str]) -> str | list[str]:
    if key not in FIELDS:
        raise UnitTextInvalid(language=language, field=key, problem=f"one of {', '.join(FIELDS)}")
    if key in LINES:
        given = value.splitlines() if isinstance(value, str) else list(value)
        lines = [" ".join(line.split()) for line in given if line.strip()]
        if len(lines) > LINES_MAX:
            raise UnitTextInvalid(
                language=language, field=key, problem="too many lines", limit=LINES_MAX
            )
        for line in lines:
            _within(language, key, line, TEXT_MAX)
        return lines
    if not isinstance(value, str):
        raise UnitTextInvalid(language=language, field=key, problem="one text, not lines")
    text = " ".join(value.split())
    _within(language, key, text, ABOUT_MAX if key == "about" else TEXT_MAX)
    return text


def _within(language: str, key: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise UnitTextInvalid(language=language, field=key, problem="too long", limit=limit)


class StoredUnitTexts:
    """What the composer calls for the stored texts: read from the database at most once
    every ``max_age`` seconds (each process its own), and at once after :meth:`forget`
    (which a change made in this process calls)."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.max_age = max_age
        self.clock = clock
        self._read_at: float | None = None
        self._texts: dict[str, dict[str, Any]] = {}

    def __call__(self) -> Mapping[str, Mapping[str, Any]]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.max_age:
            with Session(self.engine) as session:  # a reader: never SQLite's write lock
                self._texts = stored_unit_texts(session)
            self._read_at = now
        return self._texts

    def forget(self) -> None:
        self._read_at = None


def attach_unit_texts(composer: Composer, engine: Engine) -> None:
    """Have ``composer`` read the stored texts of ``engine``'s database."""
    current = composer.unit_texts
    if not (isinstance(current, StoredUnitTexts) and current.engine is engine):
        composer.unit_texts = StoredUnitTexts(engine)


def forget_unit_texts(composer: Composer) -> None:
    """After a change in this process: the next rendering reads the new texts."""
    if isinstance(composer.unit_texts, StoredUnitTexts):
        composer.unit_texts.forget()
