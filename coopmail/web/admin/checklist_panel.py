"""The checklist before sending, as the campaign's page and the send confirmation show it:
the items ``campaigns.checklist`` computes (the same as ``coopmail campaigns check`` and the
API), each passed or not, in the visit's words, with what to do about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaigns.checklist import CheckItem, check_campaign
from campaigns.errors import ContentError
from coopmail.delivery import dkim_domain
from coopmail.spamcheck import spam_scorer
from coopmail.web.admin import studio_words as w
from coopmail.web.admin.access import Visit
from coopmail.web.admin.campaign_form import ContentProblem
from coopmail.web.admin.site import AdminSite

Say = Callable[..., str]


@dataclass(frozen=True, kw_only=True)
class ShownItem:
    name: str
    verdict: str  # ok, warn, fail, skipped
    title: str
    found: str
    fix: str  # what to do; empty when there is nothing to do


@dataclass(frozen=True, kw_only=True)
class ShownChecklist:
    items: list[ShownItem]
    failed: bool
    problem: str = ""  # why there is no checklist (the content does not render)


class ChecklistPanel:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def checklist(self, visit: Visit, campaign_id: int) -> ShownChecklist:
        """The campaign's checklist now, in the visit's language."""
        settings = self.site.settings
        try:
            with self.site.context.session(write=False) as session:
                result = check_campaign(
                    session,
                    composer=self.site.context.composer,
                    campaign_id=campaign_id,
                    base_url=settings.base_url,
                    key=settings.require_secret_key().reveal().encode(),
                    now=visit.now,
                    dkim_domain=dkim_domain(settings),
                    spam_scorer=spam_scorer(),
                )
        except ContentError as error:  # it would not send either: the page says why
            return ShownChecklist(items=[], failed=True, problem=ContentProblem.of(error).message)

        def say(message: str, **values: object) -> str:
            return self.site.pages.say(visit, message, **values)

        return ShownChecklist(
            items=[shown(item, say) for item in result.items], failed=result.failed
        )


def shown(item: CheckItem, say: Say) -> ShownItem:
    found, fix = _WORDS[item.name](item.verdict.value, item.detail, say)
    return ShownItem(
        name=item.name,
        verdict=item.verdict.value,
        title=say(w.CHECK_TITLES[item.name]),
        found=found,
        fix=fix,
    )


Words = tuple[str, str]


def _subject(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if not d["subject"].strip():
        return say(w.SUBJECT_MISSING), say(w.SUBJECT_FIX)
    if verdict == "ok":
        return say(w.SUBJECT_OK), ""
    return say(w.PREHEADER_MISSING), say(w.PREHEADER_FIX)


def _dkim(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if d["signing_domain"] is None:
        return say(w.DKIM_NONE), say(w.DKIM_NONE_FIX)
    if verdict == "ok":
        return say(w.DKIM_OK, domain=d["signing_domain"]), ""
    found = {"signing": d["signing_domain"], "sender": d["sender_domain"]}
    return say(w.DKIM_OTHER, **found), say(w.DKIM_OTHER_FIX, **found)


def _images(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if verdict == "ok":
        return say(w.IMAGES_OK, count=d["images"]), ""
    return say(w.IMAGES_MISSING, images=", ".join(d["without_alt"])), say(w.IMAGES_FIX)


def _unsubscribe(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if verdict == "ok":
        return say(w.UNSUBSCRIBE_OK), ""
    return say(w.UNSUBSCRIBE_MISSING), say(w.UNSUBSCRIBE_FIX)


def _links(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if d["malformed"]:
        bad = ", ".join(f"{b['href']} ({b['problem']})" for b in d["malformed"])
        return say(w.LINKS_MALFORMED, links=bad), say(w.LINKS_MALFORMED_FIX)
    if d["not_https"]:
        return say(w.LINKS_PLAIN, links=", ".join(d["not_https"])), say(w.LINKS_PLAIN_FIX)
    return say(w.LINKS_OK, count=d["links"]), ""


def _recipients(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if verdict != "ok":
        return say(w.RECIPIENTS_NONE), say(w.RECIPIENTS_FIX)
    lists = ", ".join(f"{row['list']} {row['recipients']}" for row in d["lists"])
    return say(w.RECIPIENTS_OK, total=d["total"], lists=lists), ""


def _digest(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if verdict == "ok":
        return say(w.DIGEST_OK), ""
    return say(w.DIGEST_MISSING, items="; ".join(d["without_link"])), say(w.DIGEST_FIX)


def _spam(verdict: str, d: dict[str, Any], say: Say) -> Words:
    if "reason" in d:
        missing = w.SPAM_NOT_INSTALLED if d["reason"] == "not_installed" else w.SPAM_NO_VERDICT
        return say(missing), ""
    found = say(w.SPAM_SCORE, score=d["score"], required=d["required"])
    if d["rules"]:
        found += " " + say(w.SPAM_RULES, rules=", ".join(d["rules"]))
    return found, "" if verdict == "ok" else say(w.SPAM_FIX)


_WORDS: dict[str, Callable[[str, dict[str, Any], Say], Words]] = {
    "subject_and_preheader": _subject,
    "dkim": _dkim,
    "image_alt_text": _images,
    "unsubscribe_link": _unsubscribe,
    "links": _links,
    "recipients": _recipients,
    "digest_item_links": _digest,
    "spam_score": _spam,
}
