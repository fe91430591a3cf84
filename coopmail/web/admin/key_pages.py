"""API keys: the list (names and prefixes, never a secret), a new key shown once, revoke."""

from __future__ import annotations

from starlette.responses import Response

from coopmail.apikeys import (
    ApiKeyExists,
    ApiKeyNotFound,
    InvalidApiKeyName,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite


class KeyPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def keys_page(self, visit: Visit) -> Response:
        return self._keys(visit)

    def _keys(
        self,
        visit: Visit,
        *,
        status: int = 200,
        error: str | None = None,
        created: tuple[str, str] | None = None,
        name: str = "",
    ) -> Response:
        with self.site.context.session(write=False) as session:
            keys = [
                {
                    "id": key.id,
                    "name": key.name,
                    "prefix": key.prefix,
                    "created_at": key.created_at,
                    "last_used_at": key.last_used_at,
                    "revoked_at": key.revoked_at,
                }
                for key in list_api_keys(session)
            ]
        return self.site.render(
            visit,
            "apikeys.html",
            status=status,
            keys=keys,
            error=error,
            created=created,
            name=name,
        )

    def create(self, visit: Visit) -> Response:
        name = visit.field("name", 200).strip()
        try:
            with self.site.context.session() as session:
                new = create_api_key(session, name=name)
                self.site.record(
                    session,
                    visit,
                    "apikey.created",
                    target_type="apikey",
                    target_id=new.key.id,
                    details={"name": new.key.name, "prefix": new.key.prefix},
                )
                created = (new.key.name, new.token)
        except InvalidApiKeyName:
            return self._keys(
                visit,
                status=400,
                error=self.site.pages.say(visit, words.KEY_NAME_INVALID),
                name=name,
            )
        except ApiKeyExists:
            return self._keys(
                visit, status=409, error=self.site.pages.say(visit, words.KEY_EXISTS), name=name
            )
        # Shown on this answer only: the secret is not stored, so no page can show it again.
        return self._keys(visit, status=201, created=created)

    def revoke(self, visit: Visit) -> Response:
        key_id = visit.request.path_params["key_id"]
        try:
            with self.site.context.session() as session:
                key = revoke_api_key(session, reference=key_id, now=visit.now)
                self.site.record(
                    session,
                    visit,
                    "apikey.revoked",
                    target_type="apikey",
                    target_id=key.id,
                    details={"name": key.name},
                )
        except ApiKeyNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        return self.site.redirect("/admin/apikeys", done="key_revoked")
