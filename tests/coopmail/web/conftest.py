"""The public pages' tests never wait out the subscribe form's answer floor: the pause is
recorded instead of slept (the timing test reads what was asked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import coopmail.web.public.routes


@pytest.fixture(autouse=True)
def paced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(coopmail.web.public.routes, "_sleep", record)
    yield pauses
