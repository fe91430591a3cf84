"""µs per personalised MIME message for a 15 KB letter: render-once skeleton vs the naive way.

The naive way renders the template, inlines the CSS with premailer and builds an
EmailMessage for every recipient (~5 ms here). coopmail renders and inlines once, then per
recipient fills the slots, signs the links and assembles the bytes. Both run in this process,
on the same letter and recipients, and the ratio is printed.

Then the same letter in English, French and Spanish, whose body tests an attribute with four
values: twelve editions (three versions of four variants), each rendered and inlined once.
Printed side by side: the cost per message against the one-language letter (goal: within
1.2x) and the rendering cost against twelve times the one-language rendering.

    .venv/bin/python bench/personalise.py [--messages 20000] [--naive 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from campaigns.compose import Composer, Composition, inline_css
from campaigns.content import Content, parse_content, read_content
from campaigns.editions import CampaignMessages, Editions, Variant, VersionEditions
from campaigns.links import Links
from campaigns.messages import MessageFactory, Recipient
from campaigns.models import Campaign, SourceFormat
from campaigns.variants import Reader, known_values
from subscribers.models import MailingList
from templates import sample_path
from templates.catalogs import speaking

GOAL_US = 150
GOAL_EDITIONS_RATIO = 1.2
LANGUAGES = ("en", "fr", "es")
REGIONS = ("africa", "americas", "asia", "europe")
CONDITIONAL = (
    "\n\n{% if subscriber.attributes.region == 'africa' %}Our partners in Africa.\n"
    "{% elif subscriber.attributes.region == 'americas' %}Our partners in the Americas.\n"
    "{% elif subscriber.attributes.region == 'asia' %}Our partners in Asia.\n"
    "{% else %}Our partners everywhere.{% endif %}\n"
)
TARGET_HTML_BYTES = 15_000
BASE_URL = "https://news.example.org"
KEY = b"bench-secret-key-bench-secret-key"


def letter(composer: Composer):  # type: ignore[no-untyped-def]
    """The sample letter of solidarity, lengthened to about 15 KB of inlined HTML."""
    sample = read_content(sample_path("solidarity-letter"))
    body = sample.body
    while True:
        content = parse_content("---\n---\n" + body, name="letter.md", format=SourceFormat.MARKDOWN)
        content = type(content)(**{**content.__dict__, "meta": sample.meta})
        composition = composer.compose(
            content=content,
            template="solidarity-letter",
            subject=sample.header["subject"],
            preheader=sample.header.get("preheader", ""),
        )
        size = len(composition.html.fill({}).encode())
        if size >= TARGET_HTML_BYTES:
            return content, sample.header, composition, size
        body += "\n\n" + sample.body.split("\n\n")[1]


def recipients(count: int) -> list[Recipient]:
    return [
        Recipient(
            subscriber_id=i + 1,
            list_id=1,
            email=f"partner.{i}@coop{i % 97}.example.org",
            name=f"Partenaire Coopératif {i}",
            language="fr",
            attributes={"country": "Senegal"},
        )
        for i in range(count)
    ]


def ours(composition, people: list[Recipient]) -> float:  # type: ignore[no-untyped-def]
    factory = MessageFactory(
        composition=composition,
        links=Links(base_url=BASE_URL, key=KEY, campaign_id=7),
        sender="Cooperatives Unit <coop@example.org>",
        reply_to=None,
        list_title="Partners",
        list_id="partners.news.example.org",
        message_id_domain="example.org",
    )
    now = datetime.now(UTC)
    date_header = format_datetime(now)
    started = time.perf_counter()
    for person in people:
        factory.build(person, now=now, date_header=date_header)
    return (time.perf_counter() - started) / len(people) * 1e6


def naive(composer: Composer, content, header, people: list[Recipient]) -> float:  # type: ignore[no-untyped-def]
    """Per recipient: render with the real values, premailer, EmailMessage, as_bytes."""
    environment = composer.environment
    environment.filters["fallback"] = lambda value, default: value or default
    html_template = environment.get_template("email/solidarity-letter.html")
    text_template = environment.get_template("email/solidarity-letter.txt")
    from campaigns.content import markdown_to_html
    from campaigns.htmltext import html_to_text
    from campaigns.slots import mark_safe

    started = time.perf_counter()
    with speaking("en"):  # the layout's words, as the composer renders them
        for person in people:
            links = Links(base_url=BASE_URL, key=KEY, campaign_id=7)
            context = {
                "lang": "en",
                "subject": header["subject"],
                "preheader": header.get("preheader", ""),
                "meta": content.meta,
                "unit": composer.unit.as_context(),
                "subscriber": person,
                "unsubscribe_url": links.unsubscribe(
                    token=links.unsubscribe_token(subscriber_id=person.subscriber_id, list_id=1)
                ),
                "preferences_url": links.preferences(subscriber_id=person.subscriber_id),
                "view_url": links.view(subscriber_id=person.subscriber_id),
            }
            body = environment.from_string(content.body).render(context)
            body_html = markdown_to_html(body)
            context["content"] = mark_safe(body_html)
            context["content_text"] = html_to_text(body_html)
            html = inline_css(html_template.render(context))
            message = EmailMessage()
            message["From"] = "Cooperatives Unit <coop@example.org>"
            message["To"] = formataddr((person.name, person.email))
            message["Subject"] = header["subject"]
            message["Date"] = format_datetime(datetime.now(UTC))
            message["Message-ID"] = make_msgid(domain="example.org")
            message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
            message.set_content(text_template.render(context))
            message.add_alternative(html, subtype="html")
            message.as_bytes()
    return (time.perf_counter() - started) / len(people) * 1e6


def editions(
    composer: Composer, content: Content, header: dict[str, str]
) -> tuple[Editions, float, float]:
    """The letter with the conditional paragraph in three languages, four variants each.
    Returns the editions, the ms to render them all, and the ms of one rendering."""
    conditional = Content(
        name=content.name,
        format=content.format,
        body=content.body + CONDITIONAL,
        body_line=1,
        meta=content.meta,
    )
    conditions = composer.conditions(
        content=conditional, template="solidarity-letter", subject=header["subject"]
    )

    def render(language: str, region: str) -> Composition:
        key = conditions.key(Reader(language=language, attributes={"region": region}))
        return composer.compose(
            content=conditional,
            template="solidarity-letter",
            subject=header["subject"],
            preheader=header.get("preheader", ""),
            language=language,
            known=known_values(key),
        )

    singles = []
    for _ in range(3):
        started = time.perf_counter()
        render("en", "africa")
        singles.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    versions = {
        language: VersionEditions(
            language=language,
            conditions=conditions,
            variants=tuple(
                Variant(
                    key=conditions.key(Reader(language=language, attributes={"region": region})),
                    composition=render(language, region),
                )
                for region in REGIONS
            ),
        )
        for language in LANGUAGES
    }
    all_ms = (time.perf_counter() - started) * 1000
    return Editions(default="en", versions=versions), all_ms, statistics.median(singles)


def ours_in_languages(found: Editions, people: list[Recipient]) -> float:
    """Per message through CampaignMessages, recipients spread over the twelve editions."""
    campaign = Campaign(
        id=7,
        from_address="Cooperatives Unit <coop@example.org>",
        reply_to=None,
        lists=[MailingList(name="partners", title="Partners")],
    )
    messages = CampaignMessages(editions=found, campaign=campaign, base_url=BASE_URL, key=KEY)
    spread = [
        Recipient(
            subscriber_id=person.subscriber_id,
            list_id=1,
            email=person.email,
            name=person.name,
            language=LANGUAGES[i % 3],
            attributes={"region": REGIONS[(i // 3) % 4]},
            version=LANGUAGES[i % 3],
            variant=(i // 3) % 4,
        )
        for i, person in enumerate(people)
    ]
    now = datetime.now(UTC)
    date_header = format_datetime(now)
    started = time.perf_counter()
    for person in spread:
        messages.build(person, now=now, date_header=date_header)
    return (time.perf_counter() - started) / len(spread) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--naive", type=int, default=200, help="messages for the naive way")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    composer = Composer()
    started = time.perf_counter()
    content, header, composition, size = letter(composer)
    render_once_ms = (time.perf_counter() - started) * 1000
    people = recipients(args.messages)
    ours_us = statistics.median(ours(composition, people) for _ in range(args.rounds))
    naive_us = statistics.median(
        naive(composer, content, header, people[: args.naive]) for _ in range(args.rounds)
    )
    print(f"letter                 {size / 1000:>8.1f} KB of inlined HTML")
    print(f"render + inline once   {render_once_ms:>8.1f} ms per campaign")
    print(
        f"coopmail per message   {ours_us:>8.1f} µs  ({args.messages:,} messages, median of "
        f"{args.rounds})"
    )
    print(f"naive per message      {naive_us:>8.1f} µs  ({args.naive:,} messages)")
    print(f"ratio                  {naive_us / ours_us:>8.1f} x")
    print(f"goal                   <= {GOAL_US} µs: {'met' if ours_us <= GOAL_US else 'NOT met'}")
    found, all_ms, single_ms = editions(composer, content, header)
    count = sum(len(version.variants) for version in found.versions.values())
    languages_us = statistics.median(ours_in_languages(found, people) for _ in range(args.rounds))
    per_message = languages_us / ours_us
    print(f"three languages, {len(REGIONS)} variants each: {count} editions")
    print(
        f"  render + inline all  {all_ms:>8.1f} ms  (one: {single_ms:.1f} ms; "
        f"{count} x one = {count * single_ms:.1f} ms; ratio {all_ms / (count * single_ms):.2f})"
    )
    print(f"  per message          {languages_us:>8.1f} µs  ({per_message:.2f} x one language)")
    verdict = "met" if per_message <= GOAL_EDITIONS_RATIO else "NOT met"
    print(f"  goal                 <= {GOAL_EDITIONS_RATIO} x one language: {verdict}")


if __name__ == "__main__":
    main()
