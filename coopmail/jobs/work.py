"""What the admin's background jobs do: import a file into a list, apply a bulk action to
people. Each calls the same use cases as the command line (``import_csv``,
``apply_to_people``) and records the outcome in the audit log in the name of the staff
member who asked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from coopmail.config import Settings
from coopmail.db import forget_erased, session_scope
from coopmail.jobs.runner import JobView, JobWork, Progress
from coopmail.staff import audit
from coopmail.staff.roles import Actor, Role
from subscribers.base import utcnow
from subscribers.importer import import_csv
from subscribers.lists import get_list
from subscribers.search import PeopleQuery, walk_people
from subscribers.selection import BulkAction, apply_to_people

IMPORT = "import"
BULK = "bulk"
BULK_BATCH = 200


def import_uploads(settings: Settings) -> Path:
    """Where the admin keeps the files uploaded for an import (``<id>.csv`` and its notes
    ``<id>.json``, then the job's ``<id>.rejects.csv``) until housekeeping purges them."""
    return settings.data_dir / "imports"


def actor_json(actor: Actor) -> dict[str, Any]:
    """The staff member asking, as a job keeps them."""
    return {
        "account_id": actor.account_id,
        "label": actor.label,
        "role": actor.role.value if actor.role else None,
        "ip": actor.ip,
    }


def _actor(values: Mapping[str, Any]) -> Actor:
    role = values.get("role")
    return Actor(
        account_id=values.get("account_id"),
        label=str(values.get("label") or "unknown"),
        role=Role(role) if role else None,
        ip=values.get("ip"),
    )


def import_work(*, engine: Engine, job: JobView, progress: Progress) -> dict[str, Any]:
    parameters = job.parameters
    path = Path(parameters["path"])
    size = path.stat().st_size
    progress.report(0, size, force=True)
    with path.open("rb") as source, session_scope(engine) as session:
        # The bytes read so far tell the progress: the rows are not counted before the end.
        mailing_list = get_list(session, name=parameters["list"])
        summary = import_csv(
            session,
            source=source,
            mailing_list=mailing_list,
            rejects_path=Path(parameters["rejects"]),
            wording=parameters["wording"],
            columns=parameters.get("columns") or None,
            on_batch=lambda _rows: progress.report(source.tell(), size),
        )
        progress.report(size, size, force=True)
        result = summary.as_dict()
        audit.record(
            session,
            actor=_actor(parameters["actor"]),
            action="subscribers.imported",
            now=utcnow(),
            target_type="list",
            target_id=mailing_list.name,
            details={"job": job.id, "file": parameters.get("filename"), **result},
        )
    return result


def bulk_work(*, engine: Engine, job: JobView, progress: Progress) -> dict[str, Any]:
    parameters = job.parameters
    action = BulkAction(parameters["action"])
    total = int(parameters["count"])
    progress.report(0, total, force=True)
    with session_scope(engine) as session:
        mailing_list = (
            get_list(session, name=parameters["list"]) if parameters.get("list") else None
        )
        if "ids" in parameters:
            ids = sorted((int(i) for i in parameters["ids"]), reverse=True)
            batches: Iterator[list[int]] = (
                ids[start : start + BULK_BATCH] for start in range(0, len(ids), BULK_BATCH)
            )
        else:
            query = PeopleQuery.from_json(parameters["query"])
            batches = (
                [row.id for row in rows]
                for rows in walk_people(session, query=query, batch=BULK_BATCH)
            )
        summary = apply_to_people(
            session,
            action=action,
            batches=batches,
            wording=parameters["wording"],
            mailing_list=mailing_list,
            on_batch=lambda done: progress.report(done, max(total, done)),
        )
        result = summary.as_dict()
        audit.record(
            session,
            actor=_actor(parameters["actor"]),
            action=f"subscribers.bulk_{action.value}",
            now=utcnow(),
            target_type="list" if mailing_list is not None else None,
            target_id=mailing_list.name if mailing_list is not None else None,
            details={"job": job.id, **result},
        )
    if action is BulkAction.ERASE:
        forget_erased(engine)
    progress.report(total, total, force=True)
    return result


WORK: Mapping[str, JobWork] = {IMPORT: import_work, BULK: bulk_work}
