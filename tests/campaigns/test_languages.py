"""One campaign in English, French and Spanish, and content by audience.

Real parts only: the import, the composer, the outbox, the worker and a recording SMTP
server on 127.0.0.1; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import io
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.errors import ContentError, TooManyVariants
from campaigns.models import Campaign, Delivery
from campaigns.outbox import queue_campaign
from campaigns.previews import campaign_variants, preview_edition
from campaigns.versions import prepare_in_languages, store_in_languages
from campaigns.worker import DeliveryWorker, SendingIdentity, WorkerSettings
from coopmail.db import for_writing
from mailer.smtp import SmtpSettings
from subscribers.importer import import_csv
from subscribers.lists import create_list
from subscribers.models import MailingList
from tests.smtp_server import RecordingSmtpServer

KEY = b"languages-test-key-languages-test-key"
IDENTITY = SendingIdentity(base_url="https://news.example.org", key=KEY)
FAST = WorkerSettings(
    concurrency=4,
    retry_base=timedelta(milliseconds=50),
    retry_max=timedelta(milliseconds=200),
    poll_interval=0.02,
    until_done=True,
)
SENDER = "Cooperatives Unit <coop@example.org>"

# What each version says, and the layout's words in its language (templates/locale).
VERSIONS = {
    "en": ("Standing together this winter", "harvest of our seed banks", "Unsubscribe"),
    "fr": ("Ensemble cet hiver", "récolte de nos banques de semences", "Se désabonner"),
    "es": ("Juntos este invierno", "cosecha de nuestros bancos de semillas", "Darse de baja"),
}


def write_version(tmp_path: Path, name: str, language: str, body: str, lists: bool) -> Path:
    subject, sentence, _ = VERSIONS[language]
    shared = "template: solidarity-letter\nlists: [partners]\n" if lists else ""
    path = tmp_path / name
    path.write_text(
        f'---\nsubject: "{subject}"\nlanguage: {language}\n{shared}'
        'place: Geneva\ndate: 1 December 2026\nsalutation: "-"\nsignoff: "-"\n'
        f"signature: [Cooperatives Unit]\n---\nThe {sentence}.\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def import_people(
    session: Session, list_name: str, rows: list[tuple[str, str, str]], rejects: Path
) -> None:
    """``rows``: (email, language, region); through the real importer, which is quick."""
    mailing_list = session.scalar(select(MailingList).where(MailingList.name == list_name))
    if mailing_list is None:
        mailing_list = create_list(session, name=list_name)
        session.commit()
    lines = ["email,name,language,region", *(f"{a},Partner,{lang},{r}" for a, lang, r in rows)]
    import_csv(
        session,
        source=io.BytesIO("\n".join(lines).encode()),
        mailing_list=mailing_list,
        rejects_path=rejects / f"rejects-{list_name}.csv",
        wording="test",
    )
    session.commit()


def make_campaign(session: Session, tmp_path: Path, body: str = "") -> Campaign:
    paths = [
        write_version(tmp_path, "letter.md", "en", body, lists=True),
        write_version(tmp_path, "lettre.md", "fr", body, lists=False),
        write_version(tmp_path, "carta.md", "es", body, lists=False),
    ]
    composer = Composer()
    prepared = prepare_in_languages(
        session,
        composer=composer,
        contents=[read_content(path) for path in paths],
        default_sender=SENDER,
    )
    campaign = store_in_languages(session, prepared=prepared)
    session.commit()
    return campaign


def deliver(engine: Engine, server: RecordingSmtpServer) -> None:
    DeliveryWorker(
        engine=for_writing(engine),
        smtp=SmtpSettings.from_url(server.url),
        settings=FAST,
        identity=IDENTITY,
    ).run()


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def parsed(server: RecordingSmtpServer) -> dict[str, email.message.EmailMessage]:
    messages = {}
    for received in server.messages:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        messages[received.recipients[0]] = message
    return messages


def body_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_a_three_language_campaign_reaches_each_partner_in_their_language(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    people: list[tuple[str, str, str]] = []
    for language in ("en", "fr", "es"):
        people += [(f"{language}{i}@coop.example.org", language, "") for i in range(1000)]
    people[1000:1100] = [(f"fr{i}@coop.example.org", "fr-CA", "") for i in range(100)]
    people += [(f"none{i}@coop.example.org", "", "") for i in range(40)]
    people += [(f"pt{i}@coop.example.org", "pt-BR", "") for i in range(10)]
    import_people(session, "partners", people, tmp_path)
    campaign = make_campaign(session, tmp_path)

    queued = queue_campaign(session, campaign=campaign, composer=Composer(), now=datetime.now(UTC))
    session.commit()
    assert queued == 3050
    frozen = dict(
        session.execute(
            select(Delivery.version, func.count())
            .where(Delivery.campaign_id == campaign.id)
            .group_by(Delivery.version)
        ).all()
    )
    assert frozen == {"en": 1050, "fr": 1000, "es": 1000}
    deliver(engine, smtp_server)

    assert smtp_server.recipients() == Counter({address: 1 for address, _, _ in people})
    expected_language = {
        address: {"fr-CA": "fr", "": "en", "pt-BR": "en"}.get(language, language)
        for address, language, _ in people
    }
    for address, message in parsed(smtp_server).items():
        language = expected_language[address]
        subject, sentence, unsubscribe = VERSIONS[language]
        assert message["Subject"] == subject, address
        assert message["Content-Language"] == language, address
        html = body_of(message)
        assert sentence in html, address
        assert f'<html lang="{language}"' in html, address
        assert f">{unsubscribe}</a>" in html, address
        others = [words[1] for other, words in VERSIONS.items() if other != language]
        assert not any(other in html for other in others), address


def test_the_list_language_decides_for_people_who_gave_none(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    import_people(session, "partners", [("amara@coop.example.org", "", "")], tmp_path)
    import_people(session, "partenaires", [("claire@coop.example.org", "", "")], tmp_path)
    import_people(session, "partenaires", [("ana@coop.example.org", "es", "")], tmp_path)
    french = session.scalar(select(MailingList).where(MailingList.name == "partenaires"))
    assert french is not None
    french.language = "fr"
    session.commit()
    paths = [
        write_version(tmp_path, "letter.md", "en", "", lists=True),
        write_version(tmp_path, "lettre.md", "fr", "", lists=False),
        write_version(tmp_path, "carta.md", "es", "", lists=False),
    ]
    prepared = prepare_in_languages(
        session,
        composer=Composer(),
        contents=[read_content(path) for path in paths],
        default_sender=SENDER,
        list_names=["partners", "partenaires"],
    )
    campaign = store_in_languages(session, prepared=prepared)
    queue_campaign(session, campaign=campaign, composer=Composer(), now=datetime.now(UTC))
    session.commit()
    deliver(engine, smtp_server)
    languages = {a: m["Content-Language"] for a, m in parsed(smtp_server).items()}
    assert languages == {
        "amara@coop.example.org": "en",
        "claire@coop.example.org": "fr",
        "ana@coop.example.org": "es",
    }


def test_a_translation_must_name_a_new_language_and_share_the_template(
    session: Session, tmp_path: Path
) -> None:
    create_list(session, name="partners")
    session.commit()
    english = write_version(tmp_path, "letter.md", "en", "", lists=True)
    twice = write_version(tmp_path, "again.md", "en", "", lists=False)
    with pytest.raises(ContentError, match=r"again.md, line 2: the language en already has"):
        prepare_in_languages(
            session,
            composer=Composer(),
            contents=[read_content(english), read_content(twice)],
            default_sender=SENDER,
        )
    other = tmp_path / "other.md"
    other.write_text(
        write_version(tmp_path, "x.md", "fr", "", lists=False)
        .read_text()
        .replace("language: fr", "language: fr\ntemplate: feature")
    )
    with pytest.raises(ContentError, match=r"template is 'feature' here but"):
        prepare_in_languages(
            session,
            composer=Composer(),
            contents=[read_content(english), read_content(other)],
            default_sender=SENDER,
        )


CONDITIONAL = """{% if subscriber.attributes.region == 'africa' %}Word-Africa.
{% elif subscriber.attributes.region == 'americas' %}Word-Americas.
{% else %}Word-Elsewhere.{% endif %}
{% if 'partners-africa' in subscriber.lists %}Word-Network.{% endif %}"""


def test_conditions_on_an_attribute_and_a_list_make_one_variant_per_combination(
    engine: Engine, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    regions = ["africa", "americas", "asia", ""]
    people = [(f"p{i}@coop.example.org", ["en", "fr"][i % 2], regions[i % 4]) for i in range(40)]
    import_people(session, "partners", people, tmp_path)
    network = [(address, lang, region) for address, lang, region in people[:10]]
    import_people(session, "partners-africa", network, tmp_path)
    campaign = make_campaign(session, tmp_path, body=CONDITIONAL)
    composer = Composer()

    found = campaign_variants(session, composer=composer, campaign=campaign)
    combinations = {
        (["en", "fr"][i % 2], regions[i % 4], i < 10) for i in range(40)
    }  # en gets africa and asia, fr americas and none; the first ten are on the network
    assert len(found) == len(combinations)
    assert sum(v.recipients for v in found) == 40
    assert {v.language for v in found} == {"en", "fr"}

    queue_campaign(session, campaign=campaign, composer=composer, now=datetime.now(UTC))
    session.commit()
    rendered = session.get(Campaign, campaign.id)
    assert rendered is not None and rendered.rendered is not None
    counted = {
        language: len(version["variants"])
        for language, version in rendered.rendered["versions"].items()
    }
    assert counted == {"en": 4, "fr": 4}  # nobody reads Spanish: it is not rendered
    deliver(engine, smtp_server)
    words = {"africa": "Word-Africa", "americas": "Word-Americas"}
    messages = parsed(smtp_server)
    assert len(messages) == 40
    for index, (address, language, region) in enumerate(people):
        html = body_of(messages[address])
        assert words.get(region, "Word-Elsewhere") in html, address
        others = {"Word-Africa", "Word-Americas", "Word-Elsewhere"} - {
            words.get(region, "Word-Elsewhere")
        }
        assert not any(other in html for other in others), address
        assert ("Word-Network" in html) is (index < 10), address
        assert messages[address]["Content-Language"] == language


def test_past_the_limit_of_variants_the_campaign_is_refused_naming_the_field(
    session: Session, tmp_path: Path
) -> None:
    people = [(f"p{i}@coop.example.org", "en", f"region-{i}") for i in range(70)]
    import_people(session, "partners", people, tmp_path)
    campaign = make_campaign(
        session, tmp_path, body="{% if subscriber.attributes.region == 'x' %}x{% endif %}"
    )
    with pytest.raises(TooManyVariants, match=r"70 variants, more than 64.*attributes.region \(70"):
        queue_campaign(session, campaign=campaign, composer=Composer(), now=datetime.now(UTC))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_the_preview_shows_a_chosen_version_and_variant(session: Session, tmp_path: Path) -> None:
    people = [("a@coop.example.org", "en", "africa"), ("b@coop.example.org", "en", "asia")]
    import_people(session, "partners", people, tmp_path)
    campaign = make_campaign(session, tmp_path, body=CONDITIONAL)
    composer = Composer()
    french = preview_edition(
        session,
        composer=composer,
        campaign=campaign,
        base_url=IDENTITY.base_url,
        key=KEY,
        now=datetime.now(UTC),
        language="fr",
    )
    assert VERSIONS["fr"][1] in french.html and b"Content-Language: fr" in french.message
    variants = campaign_variants(session, composer=composer, campaign=campaign)
    assert [(v.language, v.values["attributes.region"], v.recipients) for v in variants] == [
        ("en", "africa", 1),
        ("en", "asia", 1),
    ]
    second = preview_edition(
        session,
        composer=composer,
        campaign=campaign,
        base_url=IDENTITY.base_url,
        key=KEY,
        now=datetime.now(UTC),
        variant=1,
    )
    assert second.recipient.email == "b@coop.example.org"
    assert "Word-Elsewhere" in second.html and "Word-Africa" not in second.html
