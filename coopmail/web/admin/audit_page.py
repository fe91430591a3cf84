"""The audit log: read and filter, newest first, a page at a time (keyset, so page 1,000
costs what page 1 does); owners download the filtered entries as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from coopmail.db import session_factory
from coopmail.ids import row_id
from coopmail.staff import audit
from coopmail.staff.audit import AuditFilter
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite

_FIELDS = ("actor", "action", "target_type", "target_id", "since", "until")


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class AuditPage:
    def __init__(self, site: AdminSite) -> None:
        self.site = site
        self.zone = ZoneInfo(site.settings.timezone)

    def _filters(self, values: dict[str, str]) -> AuditFilter:
        """The form's filters; days are the unit's, ``until`` included."""
        since, until = _day(values["since"]), _day(values["until"])
        return AuditFilter(
            actor=values["actor"] or None,
            action=values["action"] or None,
            target_type=values["target_type"] or None,
            target_id=values["target_id"] or None,
            since=datetime.combine(since, time(), self.zone).astimezone(UTC) if since else None,
            until=(
                datetime.combine(until + timedelta(days=1), time(), self.zone).astimezone(UTC)
                if until
                else None
            ),
        )

    def audit_page(self, visit: Visit) -> Response:
        values = {name: visit.query(name, 254).strip() for name in _FIELDS}
        before = row_id(visit.query("before"))
        with self.site.context.session(write=False) as session:
            page = audit.query_audit(
                session, actor=visit.me.actor(), filters=self._filters(values), before=before
            )
            entries = [
                {
                    "id": entry.id,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action,
                    "target": f"{entry.target_type} {entry.target_id}" if entry.target_type else "",
                    "ip": entry.ip or "",
                    "details": audit.csv_row(entry)[-1] if entry.details else "",
                }
                for entry in page.entries
            ]
        return self.site.render(
            visit,
            "audit.html",
            entries=entries,
            values=values,
            next_before=page.next_before,
            query={k: v for k, v in values.items() if v},
        )

    def export(self, visit: Visit) -> Response:
        """The CSV: the export is recorded and committed first, so it stands even if the
        download is cut short; then the rows stream, a thousand at a time."""
        values = {name: visit.field(name, 254).strip() for name in _FIELDS}
        session = session_factory(self.site.context.engine)()
        try:
            chunks = audit.export_audit_csv(
                session, actor=visit.me.actor(), filters=self._filters(values), now=visit.now
            )
            session.commit()
        except BaseException:
            session.rollback()
            session.close()
            raise

        def stream() -> Iterator[bytes]:
            for chunk in chunks:
                yield chunk.encode("utf-8")

        stamp = visit.now.astimezone(self.zone).strftime("%Y%m%d-%H%M")
        return StreamingResponse(
            stream(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
            background=BackgroundTask(session.close),
        )
