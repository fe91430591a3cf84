"""/api/v1/lists: the mailing lists, with their subscriber counts."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from coopmail.web.api.errors import ApiRoute, error_responses
from coopmail.web.api.models import ListCollection, ListIn, ListOut
from coopmail.web.context import WebContext
from subscribers.lists import create_list, summarise_lists
from subscribers.models import OptIn


def lists_router(context: WebContext) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["lists"])

    @router.get("/lists", responses=error_responses())
    def get_lists() -> ListCollection:
        """Every list, by name, with its subscriber counts."""
        with context.session(write=False) as session:
            summaries = summarise_lists(session)
        items = [ListOut(**asdict(summary)) for summary in summaries]
        return ListCollection(items=items, total=len(items))

    @router.post("/lists", status_code=201, responses=error_responses(409))
    def post_list(body: ListIn) -> ListOut:
        """Create a list; 409 if the name is taken."""
        with context.session() as session:
            mailing_list = create_list(
                session,
                name=body.name,
                title=body.title,
                description=body.description,
                opt_in=OptIn(body.opt_in),
                public=body.public,
                time_zone=body.timezone,
            )
            created = ListOut(
                name=mailing_list.name,
                title=mailing_list.title,
                description=mailing_list.description,
                opt_in=body.opt_in,
                public=mailing_list.is_public,
                confirmed=0,
                unconfirmed=0,
                unsubscribed=0,
                timezone=mailing_list.time_zone,
            )
        return created

    return router
