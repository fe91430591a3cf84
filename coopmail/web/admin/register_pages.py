"""The do-not-mail register and the bounce mailbox: suppressions listed, searched, added
and removed; bounce events listed, searched and read one by one."""

from __future__ import annotations

from starlette.responses import Response

from campaigns.overview import bounce_event, find_bounces
from coopmail.ids import row_id
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from mailer.bounces import BounceKind
from subscribers.errors import InvalidAddress, InvalidField
from subscribers.models import SuppressionReason
from subscribers.suppressions import find_suppression, list_suppressions, suppress, unsuppress

SUPPRESSIONS_SHOWN = 200


class RegisterPages:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    # --- suppressions --------------------------------------------------------------------

    def suppressions_page(self, visit: Visit) -> Response:
        return self._suppressions(visit)

    def _suppressions(
        self,
        visit: Visit,
        *,
        status: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        text = visit.query("q", 254).strip()
        reason_name = visit.query("reason")
        reason = SuppressionReason(reason_name) if reason_name in _REASONS else None
        with self.site.context.session(write=False) as session:
            if text:
                try:
                    found = find_suppression(session, email=text)
                except InvalidAddress:
                    found = None
                entries = [found] if found is not None else []
            else:
                entries = list_suppressions(session, reason=reason, limit=SUPPRESSIONS_SHOWN)
            rows = [
                {
                    "email": entry.email,
                    "hash": entry.email_hash[:12],
                    "reason": entry.reason.value,
                    "note": entry.note,
                    "at": entry.created_at,
                }
                for entry in entries
            ]
        return self.site.render(
            visit,
            "suppressions.html",
            status=status,
            rows=rows,
            text=text,
            reason=reason.value if reason else "",
            reasons=sorted(_REASONS),
            error=error,
            values=values or {},
            limit=SUPPRESSIONS_SHOWN,
        )

    def add_suppression(self, visit: Visit) -> Response:
        email = visit.field("email", 300).strip()
        note = visit.field("note", 500).strip()
        try:
            with self.site.context.session() as session:
                entry = suppress(session, email=email, reason=SuppressionReason.MANUAL, note=note)
                self.site.record(
                    session,
                    visit,
                    "suppression.added",
                    target_type="suppression",
                    target_id=entry.id,
                )
        except (InvalidAddress, InvalidField):
            return self._suppressions(
                visit,
                status=400,
                error=self.site.pages.say(visit, words.INVALID_EMAIL),
                values={"email": email, "note": note},
            )
        return self.site.redirect("/admin/suppressions", done="suppressed")

    def remove_suppression(self, visit: Visit) -> Response:
        email = visit.field("email", 300).strip()
        try:
            with self.site.context.session() as session:
                found = find_suppression(session, email=email)
                removed = unsuppress(session, email=email) if found is not None else False
                if removed and found is not None:
                    self.site.record(
                        session,
                        visit,
                        "suppression.removed",
                        target_type="suppression",
                        target_id=found.id,
                        details={"reason": found.reason.value},
                    )
        except InvalidAddress:
            removed = False
        if not removed:
            return self._suppressions(
                visit, status=404, error=self.site.pages.say(visit, words.NOT_SUPPRESSED)
            )
        return self.site.redirect("/admin/suppressions", done="unsuppressed")

    # --- bounces -------------------------------------------------------------------------

    def bounces_page(self, visit: Visit) -> Response:
        text = visit.query("q", 254).strip()
        kind_name = visit.query("kind")
        kind = BounceKind(kind_name) if kind_name in _KINDS else None
        before = row_id(visit.query("before"))
        with self.site.context.session(write=False) as session:
            events, following = find_bounces(session, text=text, kind=kind, before=before)
        return self.site.render(
            visit,
            "bounces.html",
            events=events,
            following=following,
            text=text,
            kind=kind.value if kind else "",
            kinds=sorted(_KINDS),
        )

    def bounce_page(self, visit: Visit) -> Response:
        event_id = visit.path_id("event_id")
        with self.site.context.session(write=False) as session:
            event = bounce_event(session, event_id=event_id) if event_id is not None else None
        if event is None:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        return self.site.render(visit, "bounce.html", event=event)


_REASONS = {reason.value for reason in SuppressionReason}
_KINDS = {kind.value for kind in BounceKind}
