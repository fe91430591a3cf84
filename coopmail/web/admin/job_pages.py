"""A background job's page: its progress (a bar that moves by itself with the small
script, or by the page reloading itself without it), then its outcome, and for an
import the download of its rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, JSONResponse, Response

from coopmail.housekeeping import REJECTS_KEPT
from coopmail.jobs.models import Job, JobState
from coopmail.jobs.runner import DIED, find_job
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite

REFRESH_SECONDS = 2


def job_status(job: Job) -> dict[str, Any]:
    """What the page and its script show of a job."""
    total = job.total or 0
    percent = (
        100 if job.state is JobState.DONE else min(100, job.done * 100 // total) if total else 0
    )
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "finished": job.state in (JobState.DONE, JobState.FAILED),
    }


class JobPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def _job(self, visit: Visit) -> Job | None:
        job_id = visit.path_id("job_id")
        if job_id is None:
            return None
        with self.site.context.session(write=False) as session:
            job = find_job(session, job_id=job_id)
            if job is not None:
                session.expunge(job)
            return job

    def job_page(self, visit: Visit) -> Response:
        job = self._job(visit)
        if job is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        result = job.result or {}
        rejects = self._rejects(job)
        return self.site.render(
            visit,
            "job.html",
            job=job,
            status_of=job_status(job),
            parameters=job.parameters,
            result=result,
            has_rejects=rejects is not None,
            rejects_deleted=bool(result.get("rejects_file")) and rejects is None,
            rejects_kept_days=REJECTS_KEPT.days,
            refresh=REFRESH_SECONDS,
            died=DIED,
        )

    def _rejects(self, job: Job) -> Path | None:
        """The job's rejects file, if it is still there (housekeeping deletes it after
        ``REJECTS_KEPT``) and inside the data folder."""
        named = (job.result or {}).get("rejects_file")
        if not named:
            return None
        path = Path(named).resolve()
        inside = self.site.settings.data_dir.resolve() in path.parents
        return path if inside and path.is_file() else None

    def status(self, visit: Visit) -> Response:
        job = self._job(visit)
        if job is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(job_status(job), headers={"Cache-Control": "no-store"})

    def rejects(self, visit: Visit) -> Response:
        job = self._job(visit)
        path = self._rejects(job) if job is not None else None
        if job is None or path is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        with self.site.context.session() as session:
            self.site.record(
                session,
                visit,
                "subscribers.rejects_downloaded",
                target_type="job",
                target_id=job.id,
            )
        return FileResponse(
            path,
            media_type="text/csv; charset=utf-8",
            filename=f"import-{job.id}-rejects.csv",
            headers={"Cache-Control": "no-store"},
        )
