"""The jobs table: one row per background job, its progress and its outcome."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.base import IDS_NEVER_REUSED, Base, IdType, JsonType, UTCDateTime, portable_enum

KIND_MAX = 40
RUNNER_MAX = 200


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    """A job: what to do (``kind`` and ``parameters``), who asked, how far it got (``done``
    of ``total``), and what came of it (``result`` or ``error``).

    ``runner`` names the process running it (host and pid) and ``heartbeat_at`` when it
    last reported, so a job whose process died can be told from one still going."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_id", "state", "id"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_MAX))
    state: Mapped[JobState] = mapped_column(portable_enum(JobState, "job_state"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # The staff account, without a foreign key: the job's record outlives the account.
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    runner: Mapped[str | None] = mapped_column(String(RUNNER_MAX), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
