# ruff: noqa: RUF001 - the typographic apostrophe and quotes are written on purpose
"""The words the admin's code says (its templates say theirs in ``{% trans %}``): msgids
in English, marked with ``N_`` for ``make messages``, translated when shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from coopmail.staff.errors import PasswordProblem, WeakPassword
from coopmail.web.i18n import N_

if TYPE_CHECKING:
    from coopmail.web.admin.access import Visit
    from coopmail.web.admin.render import AdminPages

NAV_DASHBOARD = N_("Dashboard")
NAV_CAMPAIGNS = N_("Campaigns")
NAV_LISTS = N_("Lists")
NAV_SUBSCRIBERS = N_("Subscribers")
NAV_IMPORTS = N_("Imports")
NAV_MEDIA = N_("Images")
NAV_NEWS = N_("News")
NAV_SUPPRESSIONS = N_("Suppressions")
NAV_BOUNCES = N_("Bounces")
NAV_APIKEYS = N_("API keys")
NAV_STAFF = N_("Staff")
NAV_AUDIT = N_("Audit log")
NAV_SETTINGS = N_("Settings")

SUBSCRIBES = N_("Subscribes")
UNSUBSCRIBES = N_("Unsubscribes")
BOUNCES = N_("Bounces")
COMPLAINTS = N_("Complaints")
PLOT_TITLE = N_("The last 30 days")
PLOT_DESCRIPTION = N_(
    "Over the last 30 days: %(subscribes)s subscribes, %(unsubscribes)s unsubscribes, "
    "%(bounces)s bounces and %(complaints)s complaints. The table below gives the figures "
    "day by day."
)

LOGIN_FAILED = N_("The address or the password is wrong. Check both and try again.")
LOGIN_THROTTLED = N_(
    "Too many failed attempts. Wait %(minutes)s minutes, then try again, or ask for a new password."
)
ACCOUNT_DISABLED = N_("This account is disabled. Ask an owner of the admin to enable it.")
CODE_FAILED = N_(
    "That code is wrong, expired or already used. Enter the code your app shows now, or "
    "one of your recovery codes."
)
ENROL_FAILED = N_(
    "That code does not match. Check the time on your phone, then enter the code your app "
    "shows now."
)
PASSWORDS_DIFFER = N_("The two passwords are not the same. Type the new password twice.")
CURRENT_PASSWORD_WRONG = N_("Your current password is not right.")
PASSWORD_PROBLEMS: Mapping[PasswordProblem, str] = {
    PasswordProblem.TOO_SHORT: N_("Choose a password of at least %(minimum)s characters."),
    PasswordProblem.TOO_LONG: N_("Choose a password of at most %(maximum)s characters."),
    PasswordProblem.COMMON: N_(
        "This password is too common or too easy to guess. A few unrelated words make a strong one."
    ),
    PasswordProblem.LIKE_ACCOUNT: N_("The password must not contain your address or your name."),
}

SESSION_ENDED: Mapping[str, str] = {
    "idle": N_("You were logged out after a while without activity. Log in again."),
    "expired": N_("Your session has reached its time limit. Log in again."),
}

CHOOSE_OPT_IN = N_("Choose single or double opt-in.")
CHOOSE_ROLE = N_("Choose one of the roles.")
CHOOSE_LIST = N_("Choose one of the lists.")
LIST_EXISTS = N_("A list with this name already exists. Choose another name.")
LIST_NAME_INVALID = N_(
    "The name appears in addresses: use lower-case letters, digits and hyphens, such as "
    "partners-fr."
)
TITLE_INVALID = N_("Write a title of at most 200 characters, on one line.")
FIELD_INVALID = N_("A value is too long or contains a line break or a control character.")
CONSENT_NEEDED = N_("Say how the person gave their consent: it is kept in their record.")
SUPPRESSED = N_(
    "This address is suppressed and cannot be subscribed. If the person asked to come back, "
    "remove the suppression first."
)
INVALID_EMAIL = N_("Enter a valid email address, such as name@example.org.")
NOT_SUPPRESSED = N_("This address is not suppressed.")
ERASE_CONFIRM = N_("Type the address exactly as shown to confirm the erasure.")
KEY_NAME_INVALID = N_(
    "Name the key with letters, digits, spaces, dots, hyphens or underscores, such as website-form."
)
KEY_EXISTS = N_("A key with this name already exists. Choose another name.")
ROLE_TOO_HIGH = N_("You cannot give or change a role above your own.")
LAST_OWNER = N_("This is the last active owner. Make another account an owner first.")
ACCOUNT_EXISTS = N_("An account for this address already exists.")
ACCOUNT_FIELDS: Mapping[str, str] = {
    "email": INVALID_EMAIL,
    "name": N_("Write a name of at most 200 characters, on one line."),
    "language": N_("Choose one of the languages offered."),
}
SECOND_FACTOR_STATES: Mapping[str, str] = {
    "already_enabled": N_("The second factor is already set up."),
    "enrolment_not_started": N_("Start the set-up again: scan the new code, then enter it."),
    "not_enabled": N_("The second factor is not set up."),
    "required_by_an_owner": N_(
        "An owner requires a second factor for this account: it cannot be turned off."
    ),
    "only_its_owner_can_set_it_up": N_("Only the person can set up their own second factor."),
}

NOT_EDITABLE = N_("Only a draft or a scheduled campaign can be changed: this one has gone out.")
CHOOSE_KIND = N_("Choose the kind of campaign.")
CHOOSE_LISTS = N_("Choose at least one list.")
WRITE_SUBJECT = N_("Write a subject: it is the first thing partners read.")
CHOOSE_SENDER = N_("Choose one of the senders.")
CHOOSE_FORMAT = N_("Choose Markdown or HTML.")
CHOOSE_LANGUAGE = N_("Choose the language the campaign is written in.")
PREVIEW_FAILED = N_("The preview cannot be shown")
PROBLEM_IN_BODY = N_("Line %(line)s of the body: %(problem)s")
PROBLEM_AT = N_("%(source)s, line %(line)s: %(problem)s")
PROBLEM_IN = N_("%(source)s: %(problem)s")
TEST_ADDRESSES = N_(
    "Enter one to %(maximum)s valid addresses, separated by commas or spaces, such as "
    "name@example.org."
)
NO_RELAY = N_(
    "No mail relay is configured, so nothing can be sent. Ask the person who runs coopmail "
    "to set one."
)
TEST_REFUSED = N_("The relay did not accept the test: %(replies)s")
SCHEDULE_TIME = N_("Choose a date and a time (in %(zone)s).")
SCHEDULE_PAST = N_("That time has passed. Choose a time in the future.")
TIME_ZONE_INVALID = N_(
    "“%(value)s” is not a time zone name. Give one such as Europe/Paris or America/Bogota, "
    "or leave it empty."
)
SCHEDULE_ZONES_PASSED = N_(
    "That hour has already passed in %(zones)s. Choose a later date, so that every partner's "
    "time zone is still ahead of it."
)
CAMPAIGN_STATE = N_(
    "The campaign is now “%(status)s”, so this cannot be done any more. Reload the page to "
    "see where it stands."
)
FORMATS: Mapping[str, str] = {"markdown": N_("Markdown"), "html": N_("HTML")}
VIEWS: Mapping[str, str] = {
    "desktop": N_("Desktop (600 px)"),
    "mobile": N_("Phone (375 px)"),
    "dark": N_("Dark mode"),
    "text": N_("Plain text"),
}
CHOOSE_FILE = N_("Choose a CSV file to import.")
FILE_UNREADABLE = N_("This file cannot be imported: %(detail)s")
MAP_ONE_EMAIL = N_("Choose exactly one column that holds the email addresses.")
IMPORT_CONSENT_NEEDED = N_(
    "Say how these people agreed to be written to: it is kept in each person's record."
)
CHOOSE_PEOPLE = N_("Tick at least one person, or choose everyone this search finds.")
JOB_DIED = N_(
    "The process running this job stopped before it finished (a restart, or the server going down)."
)
JOB_STATES: Mapping[str, str] = {
    "queued": N_("Waiting to start"),
    "running": N_("Running"),
    "done": N_("Finished"),
    "failed": N_("Stopped on an error"),
}
BULK_ACTIONS: Mapping[str, str] = {
    "add": N_("Add to a list"),
    "unsubscribe": N_("Unsubscribe from every list"),
    "erase": N_("Erase (delete their personal data)"),
}
COLUMN_ROLES: Mapping[str, str] = {
    "email": N_("Email address"),
    "name": N_("Name"),
    "language": N_("Language"),
    "attribute": N_("An attribute of this name"),
    "skip": N_("Leave out"),
}

PROBLEM_TITLES: Mapping[str, str] = {
    "forbidden": N_("Not allowed"),
    "expired": N_("The form has expired"),
    "unreadable": N_("The form could not be read"),
    "not_found": N_("Page not found"),
}
PROBLEMS: Mapping[str, str] = {
    "forbidden": N_("Your role does not allow this. If you need it, ask an owner of the admin."),
    "expired": N_(
        "This form was sent from an old page or another site. Go back, reload the page and "
        "try again."
    ),
    "unreadable": N_("The form could not be read. Go back and try again."),
    "not_found": N_("There is nothing at this address. It may have been removed."),
}

NOTICES: Mapping[str, str] = {
    "logged_out": N_("You are logged out."),
    "password_set": N_("Your password is set. Log in with it now."),
    "password_changed": N_("Your password is changed. Your other sessions have ended."),
    "saved": N_("Saved."),
    "list_created": N_("The list is created."),
    "list_saved": N_("The list is saved."),
    "news_added": N_("The news item is added. The next digest of its month carries it."),
    "news_saved": N_("The news item is saved."),
    "news_removed": N_("The news item is deleted."),
    "digest_saved": N_("The digest is set up. Each run covers the month before."),
    "digest_refreshed": N_("The issue has its month’s news items as they are now."),
    "digest_unchanged": N_("The issue already had its month’s news items as they are now."),
    "subscribed": N_("Added to the list."),
    "unsubscribed": N_("Unsubscribed."),
    "erased": N_("Everything held on the person is erased. Their address stays suppressed."),
    "suppressed": N_("The address is suppressed: nothing will be sent to it."),
    "unsuppressed": N_("The suppression is removed. The person’s lists are unchanged."),
    "key_revoked": N_("The key is revoked: programs using it are refused from now on."),
    "role_changed": N_("The role is changed. The person’s sessions have ended."),
    "disabled": N_("The account is disabled and its sessions have ended."),
    "enabled": N_("The account is enabled."),
    "unit_saved": N_("The unit’s texts are saved. New mails and pages use them."),
    "second_factor_off": N_("The second factor is turned off."),
    "session_revoked": N_("The session has ended."),
    "campaign_created": N_("The campaign is saved as a draft. Preview it, test it, then send it."),
    "test_sent": N_("The test is sent. It should arrive within a minute."),
    "scheduled": N_("The campaign is scheduled."),
    "unscheduled": N_("The schedule is cancelled: the campaign is a draft again."),
    "queued": N_("The campaign is queued: the workers are sending it."),
    "paused": N_("The campaign is paused. Nothing more is sent until you resume it."),
    "resumed": N_("The campaign is sending again."),
    "cancelled": N_("The campaign is cancelled. Messages not yet sent will not be sent."),
    "archived": N_("The campaign is marked for the public archive: it shows there once sent."),
    "unarchived": N_("The campaign is off the public archive."),
    "image_added": N_("The image is in the library. Campaigns can use it now."),
    "image_known": N_("This image was already in the library; here it is."),
    "alt_saved": N_("The description is saved."),
    "restored": N_("The revision is restored, saved as the newest one. Nothing is lost."),
    "version_added": N_("The version is added as a copy of the default version: translate it."),
    "version_removed": N_("The version is removed."),
}

ROLES: Mapping[str, str] = {
    "viewer": N_("Viewer"),
    "editor": N_("Editor"),
    "admin": N_("Admin"),
    "owner": N_("Owner"),
}
ROLE_HELP: Mapping[str, str] = {
    "viewer": N_("reads everything but exports of personal data"),
    "editor": N_("also writes campaigns and sends tests"),
    "admin": N_("also sends to lists and manages lists, subscribers and API keys"),
    "owner": N_("also manages staff accounts, reads the settings and sets the unit’s texts"),
}
STATUSES: Mapping[str, str] = {
    "unconfirmed": N_("Unconfirmed"),
    "confirmed": N_("Confirmed"),
    "unsubscribed": N_("Unsubscribed"),
}
CAMPAIGN_STATUSES: Mapping[str, str] = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "sending": N_("Sending"),
    "paused": N_("Paused"),
    "sent": N_("Sent"),
    "cancelled": N_("Cancelled"),
}
DELIVERY_STATES: Mapping[str, str] = {
    "queued": N_("Queued"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "skipped": N_("Skipped"),
}
REASONS: Mapping[str, str] = {
    "unsubscribed": N_("Unsubscribed from everything"),
    "bounced": N_("Bounced"),
    "complained": N_("Complained"),
    "manual": N_("Added by staff"),
    "erased": N_("Erased"),
}
KINDS: Mapping[str, str] = {
    "hard": N_("Hard bounce"),
    "soft": N_("Soft bounce"),
    "complaint": N_("Complaint"),
    "unsubscribe": N_("Unsubscribe by mail"),
}
CONSENT_ACTIONS: Mapping[str, str] = {
    "subscribe": N_("Subscribed"),
    "confirm": N_("Confirmed"),
    "unsubscribe": N_("Unsubscribed"),
}
CONSENT_SOURCES: Mapping[str, str] = {
    "form": N_("the subscribe page"),
    "import": N_("an import"),
    "api": N_("the API"),
    "staff": N_("staff"),
    "email": N_("a mail"),
}
OPT_INS: Mapping[str, str] = {"single": N_("Single opt-in"), "double": N_("Double opt-in")}


def password_problem(pages: AdminPages, visit: Visit, error: WeakPassword) -> str:
    return pages.say(
        visit, PASSWORD_PROBLEMS[error.problem], minimum=error.minimum, maximum=error.maximum
    )
