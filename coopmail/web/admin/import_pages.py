"""Imports: upload a CSV, see its columns and first rows, map them, state the consent
wording, choose the list, and start the import as a background job.

The file goes to the data folder as it arrives (never whole in memory), under a random
name that the mapping page's address carries; the import itself is the same use case as
`coopmail subscribers import` (``subscribers.importer.import_csv``), run by the jobs
runner of `coopmail serve` (:mod:`coopmail.jobs.work`).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from coopmail.jobs.models import Job
from coopmail.jobs.runner import submit
from coopmail.jobs.work import IMPORT, actor_json, import_uploads
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from subscribers.errors import ImportFileError, ListNotFound
from subscribers.importer import Preview, preview_csv
from subscribers.lists import get_list, summarise_lists

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_COPY_CHUNK = 1024 * 1024
PREVIEW_ROWS = 5
RECENT = 10
# A column whose header says what it holds, in the unit's three languages.
_GUESSES = {
    "email": "email", "e-mail": "email", "mail": "email", "courriel": "email",
    "correo": "email", "adresse": "email", "address": "email",
    "name": "name", "nom": "name", "nombre": "name",
    "language": "language", "langue": "language", "idioma": "language", "lang": "language",
    # A rejects file's own columns, when it is imported again once corrected.
    "line": "skip", "reason": "skip",
}  # fmt: skip


def uploads_folder(site: AdminSite) -> Path:
    return import_uploads(site.settings)


class ImportPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def imports_page(
        self, visit: Visit, *, status: int = 200, error: str | None = None
    ) -> Response:
        with self.site.context.session(write=False) as session:
            recent = list(
                session.scalars(
                    select(Job).where(Job.kind == IMPORT).order_by(Job.id.desc()).limit(RECENT)
                )
            )
            jobs = [
                {"id": job.id, "state": job.state.value, "list": job.parameters.get("list"),
                 "file": job.parameters.get("filename"), "created_at": job.created_at}
                for job in recent
            ]  # fmt: skip
        return self.site.render(visit, "imports.html", status=status, jobs=jobs, error=error)

    def upload(self, visit: Visit) -> Response:
        file = visit.form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return self.imports_page(
                visit, status=400, error=self.site.pages.say(visit, words.CHOOSE_FILE)
            )
        folder = uploads_folder(self.site)
        folder.mkdir(parents=True, exist_ok=True)
        upload_id = secrets.token_hex(16)
        target = folder / f"{upload_id}.csv"
        with target.open("wb") as kept:
            shutil.copyfileobj(file.file, kept, _COPY_CHUNK)
        try:
            with target.open("rb") as source:
                preview_csv(source, rows=1)
        except ImportFileError as problem:
            target.unlink()
            message = self.site.pages.say(visit, words.FILE_UNREADABLE, detail=str(problem))
            return self.imports_page(visit, status=400, error=message)
        meta = {"filename": Path(file.filename).name[:200], "account": visit.me.account_id}
        (folder / f"{upload_id}.json").write_text(json.dumps(meta), encoding="utf-8")
        return self.site.redirect(f"/admin/imports/{upload_id}")

    def _upload(self, visit: Visit) -> tuple[str, Path, dict[str, Any]] | None:
        upload_id = visit.request.path_params.get("upload_id", "")
        if not _UPLOAD_ID.fullmatch(upload_id):
            return None
        folder = uploads_folder(self.site)
        path, meta = folder / f"{upload_id}.csv", folder / f"{upload_id}.json"
        if not path.is_file() or not meta.is_file():
            return None
        return upload_id, path, json.loads(meta.read_text(encoding="utf-8"))

    def mapping_page(self, visit: Visit) -> Response:
        return self._mapping(visit)

    def _mapping(
        self, visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        found = self._upload(visit)
        if found is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        upload_id, path, meta = found
        with path.open("rb") as source:
            preview = preview_csv(source, rows=PREVIEW_ROWS)
        with self.site.context.session(write=False) as session:
            lists = [(s.name, s.title) for s in summarise_lists(session)]
        return self.site.render(
            visit,
            "import-map.html",
            status=status,
            upload_id=upload_id,
            filename=meta.get("filename", ""),
            preview=preview,
            roles=[self._chosen(visit, index, name) for index, name in enumerate(preview.columns)],
            lists=lists,
            chosen_list=visit.field("list", 100),
            wording=visit.field("consent", 1000),
            errors=errors or {},
        )

    @staticmethod
    def _chosen(visit: Visit, index: int, name: str) -> str:
        sent = visit.field(f"column_{index}", 20)
        if sent in words.COLUMN_ROLES:
            return sent
        return _GUESSES.get(name.strip().lower(), "attribute")

    def start(self, visit: Visit) -> Response:
        found = self._upload(visit)
        if found is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        upload_id, path, meta = found
        with path.open("rb") as source:
            preview: Preview = preview_csv(source, rows=0)
        roles = [self._chosen(visit, i, name) for i, name in enumerate(preview.columns)]
        errors: dict[str, str] = {}
        if roles.count("email") != 1:
            errors["columns"] = self.site.pages.say(visit, words.MAP_ONE_EMAIL)
        wording = visit.field("consent", 1000).strip()
        if not wording:
            errors["consent"] = self.site.pages.say(visit, words.IMPORT_CONSENT_NEEDED)
        columns: dict[str, str | None] = {}
        for name, role in zip(preview.columns, roles, strict=True):
            columns[name] = {"attribute": name, "skip": None}.get(role, role)
        try:
            with self.site.context.session() as session:
                mailing_list = get_list(session, name=visit.field("list", 100))
                if errors:
                    raise _Refused
                job = submit(
                    session,
                    kind=IMPORT,
                    parameters={
                        "path": str(path),
                        "rejects": str(path.with_name(f"{upload_id}.rejects.csv")),
                        "list": mailing_list.name,
                        "wording": wording,
                        "columns": columns,
                        "filename": meta.get("filename", ""),
                        "actor": actor_json(visit.me.actor()),
                    },
                    created_by=visit.me.account_id,
                    now=visit.now,
                )
                self.site.record(
                    session,
                    visit,
                    "subscribers.import_started",
                    target_type="list",
                    target_id=mailing_list.name,
                    details={"job": job.id, "file": meta.get("filename", "")},
                )
                job_id = job.id
        except ListNotFound:
            errors["list"] = self.site.pages.say(visit, words.CHOOSE_LIST)
            return self._mapping(visit, status=400, errors=errors)
        except _Refused:
            return self._mapping(visit, status=400, errors=errors)
        return self.site.redirect(f"/admin/jobs/{job_id}")


class _Refused(Exception):
    """The mapping form has mistakes: nothing is queued."""
