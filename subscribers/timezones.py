"""Time zones by their IANA names (Europe/Paris, America/Bogota), as partners and lists give them.

A name is checked against the zone database Python ships with, so a zone that a later
send cannot load is refused when it is typed, not discovered when the send starts.
"""

from __future__ import annotations

import functools
import zoneinfo

from subscribers.errors import InvalidTimeZone

# The attribute a subscriber's own time zone is read from (campaigns sent at a local hour).
TIME_ZONE_ATTRIBUTE = "timezone"


@functools.cache
def _known() -> dict[str, str]:
    """Every zone name, keyed by its lower case: ``europe/paris`` is ``Europe/Paris``."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def time_zone_names() -> list[str]:
    """Every zone name there is, as the database writes them."""
    return list(_known().values())


def read_time_zone(value: object) -> str | None:
    """The zone's name as the database writes it, or None for anything that is not one
    (an attribute imported from a spreadsheet may say ``CET+1``: it is read as no zone)."""
    if not isinstance(value, str):
        return None
    return _known().get(value.strip().lower())


def check_time_zone(value: str) -> str | None:
    """The zone's name written the standard way; None when empty.

    Raises InvalidTimeZone for anything that is not an IANA zone name."""
    if not value.strip():
        return None
    name = read_time_zone(value)
    if name is None:
        raise InvalidTimeZone(value=value)
    return name
