# ruff: noqa: RUF001 - the typographic apostrophe and quotes are written on purpose
"""The words of the studio's revisions, autosave, language versions and checklist: msgids
in English, marked with ``N_`` for ``make messages``, translated when shown."""

from __future__ import annotations

from collections.abc import Mapping

from coopmail.web.i18n import N_

AUTOSAVED = N_("Saved at %(time)s")
NOT_SAVED = N_("Not saved: %(reason)s")
NO_REVISION = N_("There is no such revision of this campaign.")
RESTORE_NO_VERSION = N_(
    "That revision is of a version this campaign no longer has: add the version again, "
    "then restore it."
)
VERSION_EXISTS = N_("This campaign already has a version in that language.")
NO_VERSION = N_("This campaign has no version in that language.")
CHOOSE_VERSION_LANGUAGE = N_("Choose one of the languages offered.")
VERSION_DRAFT_ONLY = N_("Only a draft’s versions can be added or removed.")

VERDICTS: Mapping[str, str] = {
    "ok": N_("Passed"),
    "warn": N_("Check"),
    "fail": N_("Failed"),
    "skipped": N_("Not checked"),
}

CHECK_TITLES: Mapping[str, str] = {
    "subject_and_preheader": N_("Subject and preheader"),
    "dkim": N_("DKIM signature"),
    "image_alt_text": N_("Text of the images"),
    "unsubscribe_link": N_("Unsubscribe link"),
    "links": N_("Links"),
    "recipients": N_("Recipients"),
    "digest_item_links": N_("Links of the digest’s items"),
    "spam_score": N_("Spam score"),
}

SUBJECT_OK = N_("The subject and the preheader are set.")
SUBJECT_MISSING = N_("There is no subject.")
SUBJECT_FIX = N_("Write a subject: it is the first thing partners read.")
PREHEADER_MISSING = N_("There is no preheader.")
PREHEADER_FIX = N_("Write a preheader: mail programs show it after the subject.")
DKIM_OK = N_("DKIM signs for %(domain)s, the sender’s domain.")
DKIM_NONE = N_("No DKIM key is configured, so mail programs cannot tell the mail is ours.")
DKIM_NONE_FIX = N_("Ask the person who runs coopmail to set dkim_selector and dkim_key_file.")
DKIM_OTHER = N_("DKIM signs for %(signing)s, not for the sender’s domain %(sender)s.")
DKIM_OTHER_FIX = N_("Choose a sender at %(signing)s, or have a key configured for %(sender)s.")
IMAGES_OK = N_("Every image has a text for those who cannot see it (%(count)s images).")
IMAGES_MISSING = N_("Images without a text: %(images)s")
IMAGES_FIX = N_("Describe each image in the library (Images), or write its text in ![text](…).")
UNSUBSCRIBE_OK = N_("The unsubscribe link is in the HTML and in the plain text.")
UNSUBSCRIBE_MISSING = N_("The unsubscribe link is missing.")
UNSUBSCRIBE_FIX = N_("Use one of the kinds as it comes: its footer carries the link.")
LINKS_OK = N_("All %(count)s links are well formed.")
LINKS_MALFORMED = N_("Links that do not work: %(links)s")
LINKS_MALFORMED_FIX = N_("Correct each link: it starts with https:// and has no spaces.")
LINKS_PLAIN = N_("Links without https: %(links)s")
LINKS_PLAIN_FIX = N_("Use https:// wherever the site offers it.")
RECIPIENTS_OK = N_("%(total)s recipients after suppressions (%(lists)s).")
RECIPIENTS_NONE = N_("Nobody would get it: the lists have no confirmed subscriber.")
RECIPIENTS_FIX = N_("Choose other lists, or wait until subscribers confirm.")
DIGEST_OK = N_("Every item has a link.")
DIGEST_MISSING = N_("Items without a link, so without “read more”: %(items)s")
DIGEST_FIX = N_("Add a link to each of these items under News.")
SPAM_NOT_INSTALLED = N_("SpamAssassin is not installed on the server: no score.")
SPAM_NO_VERDICT = N_("SpamAssassin gave no verdict: no score.")
SPAM_SCORE = N_("SpamAssassin scores it %(score)s; %(required)s or more is spam.")
SPAM_RULES = N_("Rules that matched: %(rules)s")
SPAM_FIX = N_(
    "Fewer capitals, exclamation marks and bare links; more text beside the images. Then "
    "check again."
)
