"""Lists: every list with its counts by status; create one; change its title,
description, opt-in and whether the subscribe page offers it."""

from __future__ import annotations

from starlette.responses import Response

from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from subscribers.errors import InvalidField, InvalidTimeZone, ListExists, ListNotFound
from subscribers.lists import create_list, get_list, summarise_lists, update_list
from subscribers.models import OptIn


class ListPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def lists_page(self, visit: Visit) -> Response:
        return self._lists(visit)

    def _lists(
        self,
        visit: Visit,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        with self.site.context.session(write=False) as session:
            lists = summarise_lists(session)
        return self.site.render(
            visit,
            "lists.html",
            status=status,
            lists=lists,
            errors=errors or {},
            values=values or {"opt_in": OptIn.DOUBLE.value},
        )

    def create(self, visit: Visit) -> Response:
        values = {
            "name": visit.field("name", 100).strip(),
            "title": visit.field("title", 300).strip(),
            "description": visit.field("description", 2000),
            "opt_in": visit.field("opt_in"),
            "public": visit.field("public"),
            "timezone": visit.field("timezone", 100).strip(),
        }
        errors: dict[str, str] = {}
        if values["opt_in"] not in {o.value for o in OptIn}:
            errors["opt_in"] = self.site.pages.say(visit, words.CHOOSE_OPT_IN)
        if not errors:
            try:
                with self.site.context.session() as session:
                    created = create_list(
                        session,
                        name=values["name"],
                        title=values["title"] or None,
                        description=values["description"],
                        opt_in=OptIn(values["opt_in"]),
                        public=values["public"] == "yes",
                        time_zone=values["timezone"],
                    )
                    self.site.record(
                        session,
                        visit,
                        "list.created",
                        target_type="list",
                        target_id=created.id,
                        details={"name": created.name},
                    )
            except ListExists:
                errors["name"] = self.site.pages.say(visit, words.LIST_EXISTS)
            except InvalidTimeZone as error:
                errors["timezone"] = self.site.pages.say(
                    visit, words.TIME_ZONE_INVALID, value=error.value
                )
            except InvalidField as error:
                field = "name" if "name" in str(error) else "title"
                message = words.LIST_NAME_INVALID if field == "name" else words.TITLE_INVALID
                errors[field] = self.site.pages.say(visit, message)
        if errors:
            return self._lists(visit, status=400, errors=errors, values=values)
        return self.site.redirect(f"/admin/lists/{values['name']}", done="list_created")

    def list_page(self, visit: Visit) -> Response:
        return self._list(visit)

    def _list(
        self, visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        name = visit.request.path_params["name"]
        with self.site.context.session(write=False) as session:
            try:
                mailing_list = get_list(session, name=name)
            except ListNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            summary = next(s for s in summarise_lists(session) if s.name == name)
        return self.site.render(
            visit,
            "list.html",
            status=status,
            summary=summary,
            list_id=mailing_list.id,
            errors=errors or {},
        )

    def update(self, visit: Visit) -> Response:
        name = visit.request.path_params["name"]
        opt_in = visit.field("opt_in")
        if opt_in not in {o.value for o in OptIn}:
            return self._list(
                visit,
                status=400,
                errors={"opt_in": self.site.pages.say(visit, words.CHOOSE_OPT_IN)},
            )
        try:
            with self.site.context.session() as session:
                changed = update_list(
                    session,
                    name=name,
                    title=visit.field("title", 300).strip(),
                    description=visit.field("description", 2000),
                    opt_in=OptIn(opt_in),
                    public=visit.field("public") == "yes",
                    time_zone=visit.field("timezone", 100).strip(),
                )
                self.site.record(
                    session,
                    visit,
                    "list.changed",
                    target_type="list",
                    target_id=changed.id,
                    details={
                        "title": changed.title,
                        "opt_in": changed.opt_in.value,
                        "public": changed.is_public,
                        "timezone": changed.time_zone,
                    },
                )
        except ListNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except InvalidTimeZone as error:
            message = self.site.pages.say(visit, words.TIME_ZONE_INVALID, value=error.value)
            return self._list(visit, status=400, errors={"timezone": message})
        except InvalidField:
            return self._list(
                visit, status=400, errors={"title": self.site.pages.say(visit, words.TITLE_INVALID)}
            )
        return self.site.redirect(f"/admin/lists/{name}", done="list_saved")
