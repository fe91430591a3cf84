"""Errors of the campaign package.

Each carries what went wrong as fields (content errors: the file and line where staff can fix
them) and says it in one neutral line; the shell adds what to do next in its own terms.
"""

import enum
from collections.abc import Mapping


class CampaignsError(Exception):
    """Base of every error this package raises on purpose."""


class ContentError(CampaignsError):
    """A content file or template cannot be used; the message says where and why."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        location = f"{source}, line {line}" if line else source
        super().__init__(f"{location}: {message}")
        self.source = source
        self.line = line


_LIMIT_WORDS: Mapping[str, str] = {
    "time": "rendering took longer than {maximum} seconds",
    "output": "the template produced more than {maximum} characters",
    "iterations": "the loops ran more than {maximum} times",
    "range": "range() gives at most {maximum} numbers",
    "size": "a value built in the template is longer than {maximum} characters",
}


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


class RenderLimitExceeded(ContentError):
    """A template asked for more work than one render may do (see campaigns.sandbox)."""

    def __init__(self, *, limit: str, maximum: float, source: str, line: int | None) -> None:
        super().__init__(
            "too much work for one mail: " + _LIMIT_WORDS[limit].format(maximum=_number(maximum)),
            source=source,
            line=line,
        )
        self.limit = limit
        self.maximum = maximum


class YamlTrap(enum.StrEnum):
    """The YAML mistakes people make in front matter, each with its own remedy."""

    COLON = "colon"  # "Interview: our bakery": a colon and a space start a mapping
    LEADING_SYMBOL = "leading_symbol"  # @, `, %, !, &, |, >, [, {: YAML markup
    ALIAS = "alias"  # a leading *: an alias to an anchor
    COMMENT = "comment"  # " #": the rest of the line is a comment, silently dropped
    QUOTES = "quotes"  # a quote opened and not closed, or closed too early


class FrontMatterError(ContentError):
    """The front matter is not the YAML it was meant to be.

    ``problem`` is YAML's own words; ``trap``, ``field`` and ``value`` (the text after the
    key, as typed) say which common mistake it looks like, for the shell to explain."""

    def __init__(
        self,
        *,
        problem: str,
        source: str,
        line: int | None,
        field: str | None = None,
        value: str | None = None,
        trap: YamlTrap | None = None,
        symbol: str | None = None,
    ) -> None:
        super().__init__(f"front matter: {problem}", source=source, line=line)
        self.problem = problem
        self.field = field
        self.value = value
        self.trap = trap
        self.symbol = symbol


class CampaignNotFound(CampaignsError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"there is no campaign {campaign_id}")
        self.campaign_id = campaign_id


class CampaignStateError(CampaignsError):
    """What was asked does not fit the campaign's state (sending a campaign already sent)."""

    def __init__(self, message: str, *, campaign_id: int, status: str) -> None:
        super().__init__(message)
        self.campaign_id = campaign_id
        self.status = status


class CampaignPaused(CampaignStateError):
    """Sending was asked of a paused campaign: it resumes instead."""

    def __init__(self, *, campaign_id: int, reason: str) -> None:
        super().__init__(
            f"campaign {campaign_id} is paused ({reason or 'no reason given'})",
            campaign_id=campaign_id,
            status="paused",
        )
        self.reason = reason


class ScheduleInPast(CampaignStateError):
    def __init__(self, *, campaign_id: int, status: str) -> None:
        super().__init__(
            "that time has passed; give a time in the future",
            campaign_id=campaign_id,
            status=status,
        )


class ZonesPassed(CampaignStateError):
    """A send at a local hour asked for an hour that has already passed in some of the
    recipients' zones: they would get it late, or a day late, so it is refused."""

    def __init__(self, *, campaign_id: int, status: str, local: str, zones: list[str]) -> None:
        super().__init__(
            f"{local} has already passed in {', '.join(zones)}; choose a later date so that "
            "every zone is still ahead of that hour",
            campaign_id=campaign_id,
            status=status,
        )
        self.local = local
        self.zones = zones


class UnknownTemplate(CampaignsError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"there is no template {name!r}; choose one of: {', '.join(known)}")


class TooManyVariants(CampaignsError):
    """A version's conditions make more renderings than one campaign may need.

    ``fields``: each tested field with how many distinct values it takes among the
    recipients, most first, so that staff know which condition to simplify."""

    def __init__(
        self, *, language: str, variants: int, limit: int, fields: list[tuple[str, int]]
    ) -> None:
        named = ", ".join(f"subscriber.{name} ({count} values)" for name, count in fields)
        super().__init__(
            f"the {language} version would need {variants} variants, more than {limit}; "
            f"the conditions that multiply them test {named}"
        )
        self.language = language
        self.variants = variants
        self.limit = limit
        self.fields = fields


class VersionNotFound(CampaignsError):
    def __init__(self, *, campaign_id: int, language: str, languages: list[str]) -> None:
        super().__init__(
            f"campaign {campaign_id} has no version in {language}; its versions: "
            + ", ".join(languages)
        )
        self.campaign_id = campaign_id
        self.language = language
        self.languages = languages


class VersionExists(CampaignsError):
    """A version was asked in a language the campaign is already written in."""

    def __init__(self, *, campaign_id: int, language: str) -> None:
        super().__init__(f"campaign {campaign_id} already has a version in {language}")
        self.campaign_id = campaign_id
        self.language = language


class DefaultVersion(CampaignsError):
    """A translation's change was asked of the default version, which is the campaign
    itself: it is changed as the campaign is, and goes only with the whole campaign."""

    def __init__(self, *, campaign_id: int, language: str) -> None:
        super().__init__(
            f"{language} is the default version of campaign {campaign_id}, the campaign "
            "itself, not a translation"
        )
        self.campaign_id = campaign_id
        self.language = language


class VariantNotFound(CampaignsError):
    def __init__(self, *, campaign_id: int, language: str, variant: int, count: int) -> None:
        super().__init__(
            f"the {language} version of campaign {campaign_id} has {count} variants "
            f"(numbered from 0); there is no variant {variant}"
        )
        self.campaign_id = campaign_id
        self.language = language
        self.variant = variant
        self.count = count


class DraftOnly(CampaignStateError):
    """Changing or deleting was asked of a campaign past its draft: once queued, a campaign
    is kept as it was sent, for its records. ``action`` is "change" or "delete"."""

    def __init__(self, *, campaign_id: int, status: str, action: str) -> None:
        allowed = "a draft or a scheduled campaign" if action == "change" else "a draft"
        super().__init__(
            f"campaign {campaign_id} is {status}; only {allowed} can be {action}d: "
            "a campaign past its draft is kept for its records",
            campaign_id=campaign_id,
            status=status,
        )
        self.action = action


class RevisionNotFound(CampaignsError):
    def __init__(self, *, campaign_id: int, number: int) -> None:
        super().__init__(f"campaign {campaign_id} has no revision {number}")
        self.campaign_id = campaign_id
        self.number = number


class RevisionsOfTwoVersions(CampaignsError):
    """Two revisions to compare are of different versions (a language is None for the
    default version): one is a translation of the other, not a change of it."""

    def __init__(
        self,
        *,
        campaign_id: int,
        old: int,
        new: int,
        old_language: str | None,
        new_language: str | None,
    ) -> None:
        def version(language: str | None) -> str:
            return "the default version" if language is None else f"the {language} version"

        super().__init__(
            f"revision {old} of campaign {campaign_id} is of {version(old_language)} and "
            f"revision {new} of {version(new_language)}; compare two revisions of one version"
        )
        self.campaign_id = campaign_id
        self.old = old
        self.new = new
        self.old_language = old_language
        self.new_language = new_language


class UnknownSender(ContentError):
    """A campaign's From is not one of the configured senders."""

    def __init__(self, *, address: str, known: list[str], source: str) -> None:
        super().__init__(
            f"from: {address} is not one of the senders: {', '.join(known)}", source=source, line=2
        )
        self.address = address
        self.known = known


class InvalidSendTime(CampaignsError):
    """A send time that cannot be read, or lies outside any calendar once in UTC."""

    def __init__(self, *, text: str, reason: str) -> None:
        if reason == "has an offset":
            message = (
                f"{text!r} has an offset; an hour in each partner's time zone is a "
                "wall-clock time such as 2026-12-01T09:00"
            )
        else:
            problem = "is out of range" if reason == "out of range" else "is not a time like"
            message = (
                f"{text!r} {problem} 2026-12-01T09:00 (in the unit's time zone) or "
                "2026-12-01T09:00+01:00"
            )
        super().__init__(message)
        self.text = text
        self.reason = reason
