"""Bulk actions on the subscribers page: add to a list, unsubscribe or erase the people
ticked, or everyone the current search finds; a confirmation page says how many, then a
background job does it (``subscribers.selection.apply_to_people``, via
:mod:`coopmail.jobs.work`) with its progress on the job's page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.responses import Response

from coopmail.ids import row_id
from coopmail.jobs.runner import submit
from coopmail.jobs.work import BULK, actor_json
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from coopmail.web.admin.subscriber_pages import PeopleFilter
from subscribers.errors import ListNotFound
from subscribers.lists import get_list, summarise_lists
from subscribers.models import Subscriber
from subscribers.search import count_people
from subscribers.selection import BulkAction

SELECTED_MAX = 1000
BULK_WORDING = {
    BulkAction.UNSUBSCRIBE: "Unsubscribed by staff in a bulk action",
    BulkAction.ERASE: "Erased by staff in a bulk action",
}


class BulkPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def _read(self, visit: Visit) -> tuple[BulkAction | None, list[int] | None, PeopleFilter]:
        """The action, the ticked ids (None: the whole filter), and the filter."""
        try:
            action: BulkAction | None = BulkAction(visit.field("action", 20))
        except ValueError:
            action = None
        filters = PeopleFilter.read(lambda name, limit: visit.field(f"filter_{name}", limit))
        if visit.field("scope", 20) == "filter":
            return action, None, filters
        chosen = map(row_id, visit.fields("selected", 20)[:SELECTED_MAX])
        ids = sorted({number for number in chosen if number is not None})
        return action, ids, filters

    def _count(self, ids: list[int] | None, filters: PeopleFilter) -> int:
        with self.site.context.session(write=False) as session:
            if ids is not None:
                found = select(func.count()).where(Subscriber.id.in_(ids))
                return session.scalar(found) or 0 if ids else 0
            try:
                query = filters.query(session, zone=self.site.pages.zone)
            except ListNotFound:
                return 0
            return count_people(session, query=query, cap=None).count

    def confirm_page(self, visit: Visit) -> Response:
        return self._confirm(visit)

    def _confirm(
        self, visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        action, ids, filters = self._read(visit)
        if action is None:
            return self.site.pages.problem(visit, status=400, problem="unreadable")
        count = self._count(ids, filters)
        errors = dict(errors or {})
        if count == 0:
            errors["people"] = self.site.pages.say(visit, words.CHOOSE_PEOPLE)
            status = 400
        with self.site.context.session(write=False) as session:
            lists = [(s.name, s.title) for s in summarise_lists(session)]
        hidden: list[tuple[str, Any]] = [("action", action.value)]
        hidden += [(f"filter_{k}", v) for k, v in filters.as_query_string().items()]
        if ids is None:
            hidden.append(("scope", "filter"))
        else:
            hidden += [("scope", "selected"), *(("selected", i) for i in ids)]
        return self.site.render(
            visit,
            "bulk-confirm.html",
            status=status,
            action=action.value,
            count=count,
            hidden=hidden,
            lists=lists,
            chosen_list=visit.field("list", 100),
            wording=visit.field("consent", 1000),
            back=filters.as_query_string(),
            errors=errors,
        )

    def start(self, visit: Visit) -> Response:
        action, ids, filters = self._read(visit)
        if action is None:
            return self.site.pages.problem(visit, status=400, problem="unreadable")
        count = self._count(ids, filters)
        if count == 0:
            return self._confirm(visit)
        wording = visit.field("consent", 1000).strip()
        if action is BulkAction.ADD and not wording:
            return self._confirm(
                visit,
                status=400,
                errors={"consent": self.site.pages.say(visit, words.CONSENT_NEEDED)},
            )
        try:
            with self.site.context.session() as session:
                mailing_list = (
                    get_list(session, name=visit.field("list", 100))
                    if action is BulkAction.ADD
                    else None
                )
                parameters: dict[str, Any] = {
                    "action": action.value,
                    "list": mailing_list.name if mailing_list is not None else None,
                    "wording": wording or BULK_WORDING[action],
                    "count": count,
                    "actor": actor_json(visit.me.actor()),
                }
                if ids is None:
                    query = filters.query(session, zone=self.site.pages.zone)
                    parameters["query"] = query.as_json()
                else:
                    parameters["ids"] = ids
                job = submit(
                    session,
                    kind=BULK,
                    parameters=parameters,
                    created_by=visit.me.account_id,
                    now=visit.now,
                    total=count,
                )
                self.site.record(
                    session,
                    visit,
                    "subscribers.bulk_requested",
                    target_type="job",
                    target_id=job.id,
                    details={
                        "action": action.value,
                        "count": count,
                        "list": parameters["list"],
                        "scope": "filter" if ids is None else "selected",
                    },
                )
                job_id = job.id
        except ListNotFound:
            return self._confirm(
                visit, status=400, errors={"list": self.site.pages.say(visit, words.CHOOSE_LIST)}
            )
        return self.site.redirect(f"/admin/jobs/{job_id}")
