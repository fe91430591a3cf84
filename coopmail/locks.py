"""Tables the scheduler needs: a lease lock, and APScheduler's job store.

Both live in the project's database so that one `coopmail serve` among many can hold the
scheduler role and its jobs survive restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, String, Table, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.base import Base, UTCDateTime

# Exactly APScheduler 3's SQLAlchemyJobStore table, declared here so that Alembic creates
# it with everything else (the job store then finds it and leaves it alone).
APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class Lock(Base):
    """A named lease: held while its owner renews it, free once it has expired."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
