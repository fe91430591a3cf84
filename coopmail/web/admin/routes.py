"""The admin's route table: every page and form, with the access it requires, and the
router built from it. A route exists only through a row of this table, and each row names
its permission (or why it needs none), which tests/coopmail/web/admin checks route by
route, role by role.

No ``from __future__ import annotations``: FastAPI reads the endpoints' signatures.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from coopmail.staff.roles import Permission as P
from coopmail.web.admin.access import PREFIX, Access, Open, Visit
from coopmail.web.admin.account_pages import AccountPages
from coopmail.web.admin.audit_page import AuditPage
from coopmail.web.admin.bulk_pages import BulkPages
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.dashboard import DashboardPage
from coopmail.web.admin.digest_pages import DigestPages
from coopmail.web.admin.import_pages import ImportPages
from coopmail.web.admin.job_pages import JobPages
from coopmail.web.admin.key_pages import KeyPages
from coopmail.web.admin.list_pages import ListPages
from coopmail.web.admin.login_pages import LoginPages
from coopmail.web.admin.media_pages import MediaPages
from coopmail.web.admin.news_pages import UPLOAD_MAX as NEWS_UPLOAD_MAX
from coopmail.web.admin.news_pages import NewsPages
from coopmail.web.admin.preview_page import PreviewPage
from coopmail.web.admin.progress_page import ProgressPage
from coopmail.web.admin.register_pages import RegisterPages
from coopmail.web.admin.report_page import ReportPage
from coopmail.web.admin.revision_pages import RevisionPages
from coopmail.web.admin.send_pages import SendPages
from coopmail.web.admin.settings_page import SettingsPage
from coopmail.web.admin.site import AdminSite
from coopmail.web.admin.staff_pages import StaffPages
from coopmail.web.admin.subscriber_pages import SubscriberPages
from coopmail.web.admin.unit_page import UnitPage
from coopmail.web.admin.version_pages import VersionPages
from coopmail.web.context import WebContext
from coopmail.web.forms import CSV_UPLOAD_MAX
from templates import TEMPLATES_DIR

STATIC = Path(__file__).resolve().parent / "static"
STYLESHEETS = TEMPLATES_DIR / "web" / "static"
Handler = Callable[[Visit], Response]


@dataclass(frozen=True, kw_only=True)
class AdminRoute:
    method: str
    path: str  # below /admin
    access: Access
    handler: Handler
    # Whether the request may change anything: then its form is read and its CSRF token
    # checked. Every POST does, but the fallback that only says "not found".
    changes_state: bool = True
    # A form that uploads one file of at most this many bytes (the media library).
    upload_max: int | None = None

    @property
    def full_path(self) -> str:
        return PREFIX + self.path


def admin_routes(site: AdminSite) -> list[AdminRoute]:
    logins = LoginPages(site)
    dashboard = DashboardPage(site)
    lists = ListPages(site)
    people = SubscriberPages(site)
    register = RegisterPages(site)
    keys = KeyPages(site)
    staff = StaffPages(site)
    audit = AuditPage(site)
    account = AccountPages(site)
    campaigns = CampaignPages(site)
    previews = PreviewPage(site, campaigns)
    revisions = RevisionPages(site, campaigns)
    versions = VersionPages(site, campaigns)
    sending = SendPages(site, campaigns)
    progress = ProgressPage(site, sending)
    report = ReportPage(site)
    imports = ImportPages(site)
    unit_texts = UnitPage(site)
    jobs = JobPages(site)
    bulk = BulkPages(site)
    media = MediaPages(site)
    news = NewsPages(site)
    digest = DigestPages(site, campaigns)
    anyone, code, enrol = Open.ANYONE, Open.SECOND_FACTOR, Open.ENROL

    def get(path: str, access: Access, handler: Handler) -> AdminRoute:
        return AdminRoute(
            method="GET", path=path, access=access, handler=handler, changes_state=False
        )

    def post(path: str, access: Access, handler: Handler) -> AdminRoute:
        return AdminRoute(method="POST", path=path, access=access, handler=handler)

    person = "/subscribers/{subscriber_id}"
    member = "/staff/{account_id}"
    one = "/campaigns/{campaign_id}"
    item = "/news/{item_id}"
    return [
        get("", anyone, lambda visit: RedirectResponse(PREFIX + "/", status_code=308)),
        get("/login", anyone, logins.login_page),
        post("/login", anyone, logins.login),
        get("/login/code", code, logins.code_page),
        post("/login/code", code, logins.code),
        get("/login/enrol", enrol, logins.enrol_page),
        post("/login/enrol/start", enrol, logins.enrol_start),
        post("/login/enrol", enrol, logins.enrol_confirm),
        get("/logout", P.READ, logins.logout_page),
        post("/logout", P.READ, logins.logout),
        get("/password-reset", anyone, logins.reset_page),
        post("/password-reset", anyone, logins.reset),
        get("/password/{token}", anyone, logins.password_page),
        post("/password/{token}", anyone, logins.set_password),
        get("/", P.READ, dashboard.dashboard),
        get("/campaigns", P.READ, campaigns.campaigns_page),
        post("/campaigns", P.COMPOSE, campaigns.create),
        get("/campaigns/new", P.COMPOSE, campaigns.new_page),
        post("/campaigns/preview", P.COMPOSE, previews.preview_unsaved),
        get(one, P.READ, campaigns.campaign_page),
        get(one + "/preview", P.READ, previews.preview_saved),
        get(one + "/edit", P.COMPOSE, campaigns.edit_page),
        post(one + "/edit", P.COMPOSE, campaigns.save),
        get(one + "/compare", P.READ, revisions.compare_page),
        post(one + "/restore", P.COMPOSE, revisions.restore),
        get(one + "/versions", P.READ, versions.side_by_side),
        post(one + "/versions", P.COMPOSE, versions.add),
        post(one + "/versions/remove", P.COMPOSE, versions.remove),
        post(one + "/test", P.TEST_SEND, sending.test_send),
        post(one + "/archive", P.SEND, campaigns.archive),
        post(one + "/digest-refresh", P.COMPOSE, digest.refresh),
        post(one + "/schedule", P.SEND, sending.schedule),
        post(one + "/unschedule", P.SEND, sending.unschedule),
        get(one + "/send", P.SEND, sending.confirm_page),
        post(one + "/send", P.SEND, sending.send_now),
        get(one + "/progress", P.READ, progress.progress_page),
        get(one + "/events", P.READ, progress.events),
        get(one + "/report", P.READ, report.report_page),
        post(one + "/pause", P.SEND, progress.pause),
        post(one + "/resume", P.SEND, progress.resume),
        post(one + "/cancel", P.SEND, progress.cancel),
        get("/lists", P.READ, lists.lists_page),
        post("/lists", P.MANAGE_LISTS, lists.create),
        get("/lists/{name}", P.READ, lists.list_page),
        post("/lists/{name}", P.MANAGE_LISTS, lists.update),
        get("/subscribers", P.READ, people.search_page),
        post("/subscribers/bulk", P.MANAGE_SUBSCRIBERS, bulk.confirm_page),
        post("/subscribers/bulk/start", P.MANAGE_SUBSCRIBERS, bulk.start),
        get(person, P.READ, people.person_page),
        post(person + "/edit", P.MANAGE_SUBSCRIBERS, people.edit),
        post(person + "/lists", P.MANAGE_SUBSCRIBERS, people.add_to_list),
        post(person + "/unsubscribe", P.MANAGE_SUBSCRIBERS, people.unsubscribe),
        post(person + "/export", P.EXPORT_PERSONAL_DATA, people.export),
        get(person + "/erase", P.MANAGE_SUBSCRIBERS, people.erase_page),
        post(person + "/erase", P.MANAGE_SUBSCRIBERS, people.erase),
        get("/imports", P.READ, imports.imports_page),
        AdminRoute(
            method="POST",
            path="/imports",
            access=P.MANAGE_SUBSCRIBERS,
            handler=imports.upload,
            upload_max=CSV_UPLOAD_MAX,
        ),
        get("/imports/{upload_id}", P.MANAGE_SUBSCRIBERS, imports.mapping_page),
        post("/imports/{upload_id}", P.MANAGE_SUBSCRIBERS, imports.start),
        get("/jobs/{job_id}", P.READ, jobs.job_page),
        get("/jobs/{job_id}/status", P.READ, jobs.status),
        get("/jobs/{job_id}/rejects", P.MANAGE_SUBSCRIBERS, jobs.rejects),
        get("/suppressions", P.READ, register.suppressions_page),
        post("/suppressions", P.MANAGE_SUPPRESSIONS, register.add_suppression),
        post("/suppressions/remove", P.MANAGE_SUPPRESSIONS, register.remove_suppression),
        get("/bounces", P.READ, register.bounces_page),
        get("/bounces/{event_id}", P.READ, register.bounce_page),
        get("/apikeys", P.READ, keys.keys_page),
        post("/apikeys", P.MANAGE_APIKEYS, keys.create),
        post("/apikeys/{key_id}/revoke", P.MANAGE_APIKEYS, keys.revoke),
        get("/staff", P.MANAGE_STAFF, staff.staff_page),
        post("/staff", P.MANAGE_STAFF, staff.create),
        get(member, P.MANAGE_STAFF, staff.account_page),
        post(member + "/role", P.MANAGE_STAFF, staff.set_role),
        post(member + "/disable", P.MANAGE_STAFF, staff.disable),
        post(member + "/enable", P.MANAGE_STAFF, staff.enable),
        post(member + "/second-factor", P.MANAGE_STAFF, staff.require_second_factor),
        post(member + "/second-factor/off", P.MANAGE_STAFF, staff.turn_off_second_factor),
        post(member + "/reset", P.MANAGE_STAFF, staff.reset),
        post(member + "/invite", P.MANAGE_STAFF, staff.invite),
        post(member + "/sessions/{session_id}/revoke", P.MANAGE_STAFF, staff.revoke_session),
        get("/audit", P.READ_AUDIT, audit.audit_page),
        post("/audit/export", P.EXPORT_AUDIT, audit.export),
        get("/media", P.COMPOSE, media.media_page),
        get("/media.json", P.COMPOSE, media.picker),
        AdminRoute(
            method="POST",
            path="/media",
            access=P.COMPOSE,
            handler=media.upload,
            upload_max=media.limits.max_bytes,
        ),
        post("/media/{media_id}/alt", P.COMPOSE, media.set_alt),
        get("/news", P.READ, news.news_page),
        post("/news", P.COMPOSE, news.add),
        post("/news/import-feed", P.COMPOSE, news.import_feed),
        AdminRoute(
            method="POST",
            path="/news/import",
            access=P.COMPOSE,
            handler=news.import_file,
            upload_max=NEWS_UPLOAD_MAX,
        ),
        get("/news/digest", P.READ, digest.digest_page),
        # A digest may send itself to a whole list: setting one up is sending.
        post("/news/digest", P.SEND, digest.configure),
        get(item, P.READ, news.item_page),
        post(item, P.COMPOSE, news.save),
        post(item + "/delete", P.COMPOSE, news.delete),
        get("/settings", P.MANAGE_SETTINGS, SettingsPage(site).settings_page),
        get("/settings/unit", P.MANAGE_SETTINGS, unit_texts.unit_page),
        post("/settings/unit", P.MANAGE_SETTINGS, unit_texts.save),
        get("/account", P.READ, account.account_page),
        post("/account/profile", P.READ, account.profile),
        post("/account/password", P.READ, account.password),
        post("/account/second-factor/start", P.READ, account.enrol_start),
        post("/account/second-factor", P.READ, account.enrol_confirm),
        post("/account/second-factor/off", P.READ, account.factor_off),
        post("/account/recovery-codes", P.READ, account.renew_codes),
        post("/account/sessions/{session_id}/revoke", P.READ, account.revoke_session),
        get("/assets/admin.js", anyone, _static(STATIC / "admin.js", "text/javascript")),
        get("/assets/admin.css", anyone, _static(STYLESHEETS / "admin.css", "text/css")),
        get("/assets/palette.css", anyone, _static(STYLESHEETS / "palette.css", "text/css")),
        # Anything else under /admin/: a page saying so (not the public pages' answer).
        get(
            "/{rest:path}",
            anyone,
            lambda visit: site.pages.problem(visit, status=404, problem="not_found"),
        ),
        AdminRoute(
            method="POST",
            path="/{rest:path}",
            access=anyone,
            changes_state=False,
            handler=lambda visit: site.pages.problem(visit, status=404, problem="not_found"),
        ),
    ]


def _static(path: Path, media_type: str) -> Handler:
    body = path.read_bytes()

    def serve(visit: Visit) -> Response:
        return Response(
            body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
        )

    return serve


def _endpoint(route: AdminRoute, site: AdminSite) -> Callable[..., object]:
    check = site.guard.dependency(
        route.access, changes_state=route.changes_state, upload_max=route.upload_max
    )

    async def endpoint(visit: Visit = Depends(check)) -> Response:  # noqa: B008
        return await run_in_threadpool(route.handler, visit)

    return endpoint


def admin_router(context: WebContext) -> tuple[APIRouter, list[AdminRoute]]:
    """The admin under /admin/, and the table it was built from."""
    site = AdminSite(context)
    routes = admin_routes(site)
    router = APIRouter(include_in_schema=False)
    for route in routes:
        router.add_api_route(
            route.full_path,
            _endpoint(route, site),
            methods=[route.method],
            include_in_schema=False,
        )
    return router, routes
