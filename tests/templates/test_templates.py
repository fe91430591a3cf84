"""The e-mail templates, rendered the way the campaign composer renders them.

Each mail goes through the real composer (sandboxed Jinja2, Markdown, premailer once, then
the personal slots filled), with the sample campaigns as content.

Headless Chromium (Debian's ``chromium``, driven by the ``playwright`` package; no browser is
ever downloaded) shows every HTML mail at 640, 375 and 320 px, and at 375 px in dark mode,
checks what a reader would see (no sideways scrolling, alt texts, a visible unsubscribe link,
WCAG AA contrast for every piece of text, comfortable buttons) and saves PNG screenshots
under test-artifacts/templates/.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from lxml import etree as lxml_etree
from lxml import html as lxml_html

from campaigns.compose import Composer, built_in_unit, load_unit
from campaigns.content import read_content
from campaigns.errors import ContentError
from templates import CAMPAIGN_KINDS, SYSTEM_MAILS, TEMPLATES_DIR, sample_path
from tests.templates.words import english_in, page_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "templates"

URLS = {
    "unsubscribe_url": "https://news.example.org/u/TOKEN",
    "preferences_url": "https://news.example.org/p/TOKEN",
    "view_url": "https://news.example.org/v/CAMPAIGN/TOKEN",
    "confirm_url": "https://news.example.org/c/3f9c2a7d5b1e4c8a9f0d6b2e7a1c4f8e?list=partners&lang=en",
    "resubscribe_url": "https://news.example.org/r/TOKEN",
}
SYSTEM_META: dict[str, dict[str, Any]] = {
    "confirm-subscription": {
        "subject": "Please confirm your subscription",
        "preheader": "One click to start receiving our letters, interviews and news.",
    },
    "welcome": {
        "subject": "Welcome to the news of the Cooperatives Unit",
        "preheader": "What to expect from us, and how to choose what you receive.",
    },
    "unsubscribed": {
        "subject": "You have been unsubscribed",
        "preheader": "We are sorry to see you go; you can come back at any time.",
    },
    # The same mails in French and Spanish: email/system/<name> rendered in that language.
    "fr/confirm-subscription": {
        "subject": "Veuillez confirmer votre abonnement",
        "preheader": "Un clic pour recevoir nos lettres, nos entretiens et nos nouvelles.",
    },
    "fr/welcome": {
        "subject": "Bienvenue : vous recevrez désormais nos nouvelles",
        "preheader": "Ce que vous recevrez de notre part, et comment choisir vos lettres.",
    },
    "fr/unsubscribed": {
        "subject": "Votre désabonnement est confirmé",
        "preheader": "Nous regrettons votre départ ; vous pouvez revenir à tout moment.",
    },
    "es/confirm-subscription": {
        "subject": "Confirme su suscripción",
        "preheader": "Un clic para empezar a recibir nuestras cartas, entrevistas y noticias.",
    },
    "es/welcome": {
        "subject": "Le damos la bienvenida a nuestras noticias",
        "preheader": "Lo que recibirá de nosotros y cómo elegir lo que le enviamos.",
    },
    "es/unsubscribed": {
        "subject": "Se ha dado de baja",
        "preheader": "Lamentamos su partida; puede volver cuando lo desee.",
    },
}
TRANSLATIONS = ("fr", "es")
EXPIRES_IN = {"en": "48 hours", "fr": "48 heures", "es": "48 horas"}
UNSUBSCRIBE = {"en": "Unsubscribe", "fr": "Se désabonner", "es": "Darse de baja"}
LISTS = ["Partners' newsletter", "Letters of solidarity & statements"]
SYSTEM_NAMES = [f"system/{name}" for name in SYSTEM_META]
NAMES = [*CAMPAIGN_KINDS, *SYSTEM_NAMES]
PLACEHOLDER_NAMES = (*URLS, "subscriber")
# Mails to someone not (or no longer) subscribed offer nothing to unsubscribe from.
NOT_SUBSCRIBED = {name for name in SYSTEM_NAMES if not name.endswith("/welcome")}


# --- rendering through the real composer ----------------------------------------------


def language_of(name: str) -> str:
    """system/fr/welcome is in French; every other mail here is in English."""
    parts = name.split("/")
    return parts[1] if len(parts) == 3 else "en"


def template_of(name: str) -> str:
    """system/fr/welcome is email/system/welcome, rendered in French."""
    parts = name.split("/")
    return f"system/{parts[2]}" if len(parts) == 3 else name


@dataclass(frozen=True)
class Sample:
    meta: dict[str, Any]
    body: str


@dataclass(frozen=True)
class Rendered:
    name: str
    html: str
    text: str

    @property
    def slug(self) -> str:
        return self.name.replace("/", "-")


def read_sample(path: Path) -> Sample:
    match = re.fullmatch(r"---\n(.*?)\n---\n(.*)", path.read_text(encoding="utf-8"), re.S)
    assert match, f"{path.name}: no YAML front matter between --- lines"
    meta = yaml.safe_load(match[1])
    assert isinstance(meta, dict), f"{path.name}: the front matter is not a mapping"
    return Sample(meta, match[2])


# The built-in unit (said in every language), at another address.
COMPOSER = Composer(
    unit=built_in_unit().with_texts(
        {"en": {"address_lines": ("12 Rue des Artisans", "1201 Geneva", "Switzerland")}}
    )
)


# Where the media library serves the news article's picture once a campaign is created.
PICTURE_URL = "https://www.example.org/media/assembly.jpg"


def render(
    name: str, *, subscriber_name: str = "Nadia Haddad", preheader: str | None = None
) -> Rendered:
    """One mail as a recipient gets it: composed once, then the slots filled."""
    if name.startswith("system/"):
        system = name.removeprefix("system/")
        language = language_of(name)
        meta = {"lists": LISTS, "expires_in": EXPIRES_IN[language], **SYSTEM_META[system]}
        composition = COMPOSER.compose_system(
            name=system.rpartition("/")[2],
            subject=meta["subject"],
            preheader=meta["preheader"] if preheader is None else preheader,
            language=language,
            meta=meta,
        )
    else:
        content = read_content(sample_path(name))
        if "image" in content.meta:  # a send links the picture from the media library
            content = replace(content, meta={**content.meta, "image": PICTURE_URL})
        composition = COMPOSER.compose(
            content=content,
            template=name,
            subject=content.header["subject"],
            preheader=content.header["preheader"] if preheader is None else preheader,
        )
    values = {
        "name": subscriber_name,
        "email": "nadia.haddad@coop.example.net",
        "language": language_of(name),
        "attributes.country": "Tunisia",
        **URLS,
    }
    return Rendered(name, composition.html.fill(values), composition.text.fill(values))


@pytest.fixture(scope="module")
def rendered() -> dict[str, Rendered]:
    return {name: render(name) for name in NAMES}


# --- the package and its samples ------------------------------------------------------


def test_package_names_every_template_and_sample() -> None:
    assert TEMPLATES_DIR.is_dir()
    translated = {f"system/{lang}/{mail}" for lang in TRANSLATIONS for mail in SYSTEM_MAILS}
    assert translated <= set(NAMES), "every translation goes through every check below"
    for name in NAMES:
        for ext in ("html", "txt"):
            path = TEMPLATES_DIR / "email" / f"{template_of(name)}.{ext}"
            assert path.is_file(), f"{name}.{ext}"
    # One template per mail: the words of each language are in the catalogs.
    assert not [path for path in (TEMPLATES_DIR / "email" / "system").iterdir() if path.is_dir()]
    for kind in CAMPAIGN_KINDS:
        assert sample_path(kind) == TEMPLATES_DIR / "samples" / f"{kind}.md"
        assert sample_path(kind).is_file()
    with pytest.raises(ValueError, match="no sample"):
        sample_path("../email/base")


SAMPLE_KEYS = {
    "solidarity-letter": {"place", "date", "salutation", "signoff", "signature"},
    "feature": {"intro", "interviewee", "role"},
    "news-article": {"dateline", "lead", "image", "image_alt", "image_caption"},
    "digest": {"months"},
}


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_sample_front_matter_holds_what_the_template_reads(kind: str) -> None:
    sample = read_sample(sample_path(kind))
    meta = sample.meta
    assert {"subject", "preheader", "template", "lists"} | SAMPLE_KEYS[kind] <= meta.keys()
    assert meta["template"] == kind
    assert meta["lists"] == ["partners"]
    words = len(sample.body.split())
    if kind == "solidarity-letter":
        assert 250 <= words <= 350, words
        assert isinstance(meta["signature"], list)
    elif kind == "feature":
        assert 4 <= len(re.findall(r"^### ", sample.body, re.M)) <= 5
    elif kind == "news-article":
        assert len(re.findall(r"^## ", sample.body, re.M)) == 2
        assert re.search(r"^- ", sample.body, re.M)
        assert (sample_path(kind).parent / meta["image"]).is_file()  # a picture beside it
        assert meta["image_alt"].strip()
    else:
        assert meta["months"]
        for month in meta["months"]:
            assert month["label"] and month["items"]
            for item in month["items"]:
                assert item.keys() == {"category", "title", "date", "summary", "link"}


def test_about_text_is_one_paragraph() -> None:
    about = (TEMPLATES_DIR / "samples" / "about.md").read_text(encoding="utf-8").strip()
    assert about and "\n\n" not in about
    assert 40 <= len(about.split()) <= 120


# --- rendering: text parts -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_text_part_is_plain_wrapped_text_with_the_opt_out_links(
    name: str, rendered: dict[str, Rendered]
) -> None:
    text = rendered[name].text
    subscribed = name not in NOT_SUBSCRIBED
    assert (URLS["unsubscribe_url"] in text) is subscribed
    assert (URLS["preferences_url"] in text) is subscribed
    assert (URLS["view_url"] in text) is (name in CAMPAIGN_KINDS)  # no web copy of system mail
    assert not re.search(r"</?[a-zA-Z][^>]*>", text), "HTML tag in the text part"
    assert not re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", text, re.I), "HTML entity in text"
    assert "\n\n\n\n" not in text
    assert text == text.strip() + "\n" or text == text.strip()
    too_long = [line for line in text.splitlines() if len(line) > 76 and "://" not in line]
    assert not too_long, too_long


def test_text_parts_print_the_content_and_meta(rendered: dict[str, Rendered]) -> None:
    letter = rendered["solidarity-letter"].text
    assert "Geneva, 21 November 2026" in letter
    assert "Dear colleagues and friends," in letter
    assert letter.index("In solidarity,") < letter.index("Enterprises Department\n\n---")
    feature = rendered["feature"].text
    assert "With Lucía Mamani, Coordinator" in feature
    assert "What role do women play in leading the cooperatives?" in feature
    digest = rendered["digest"].text
    assert "NOVEMBER 2026\n-------------" in digest
    assert "Read more: https://www.example.org/news/care-cooperatives-study" in digest
    confirm = rendered["system/confirm-subscription"].text
    assert URLS["confirm_url"] in confirm  # the & stays a plain &
    assert "  * Partners' newsletter" in confirm
    assert "Letters of solidarity &amp; statements" in rendered["system/welcome"].html
    assert "expires in 48 hours" in confirm
    assert URLS["resubscribe_url"] in rendered["system/unsubscribed"].text


@pytest.mark.parametrize(
    ("name", "greeting", "fallback"),
    [
        ("system/welcome", "Dear Nadia Haddad,", "Dear colleague,"),
        ("system/fr/welcome", "Bonjour Nadia Haddad,", "Bonjour à vous,"),
        ("system/es/welcome", "Hola, Nadia Haddad:", "Hola, colega:"),
    ],
)
def test_greeting_falls_back_when_the_name_is_empty(
    name: str, greeting: str, fallback: str
) -> None:
    named = render(name)
    anonymous = render(name, subscriber_name="")
    for part in ("html", "text"):
        assert greeting in getattr(named, part)
        assert fallback in getattr(anonymous, part)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("system/fr/confirm-subscription", ["Veuillez confirmer", "valable 48 heures"]),
        ("system/fr/welcome", ["Votre abonnement est confirmé", "Bien cordialement"]),
        ("system/fr/unsubscribed", ["des listes suivantes", "Merci du temps"]),
        ("system/es/confirm-subscription", ["Confirme su suscripción", "durante 48 horas"]),
        ("system/es/welcome", ["Su suscripción está confirmada", "Saludos cordiales"]),
        ("system/es/unsubscribed", ["las siguientes listas", "Gracias por el tiempo"]),
    ],
)
def test_translations_are_written_in_their_language_layout_included(
    name: str, words: list[str], rendered: dict[str, Rendered]
) -> None:
    """Body, footer and links alike: no English sentence is left in a translated mail."""
    mail = rendered[name]
    language = language_of(name)
    for part in (mail.html, mail.text):
        layout = [] if name in NOT_SUBSCRIBED else [UNSUBSCRIBE[language]]
        for word in [*words, *layout]:
            assert word in part, word
        for english in ("Unsubscribe", "your browser", "This email was sent", "Please"):
            assert english not in part, english
    tree = lxml_html.document_fromstring(mail.html)
    assert tree.xpath("//div[@role='article']/@lang") == [language]
    # Every sentence of ours, not only those above: the catalogs leave none in English.
    assert english_in(page_text(mail.html)) == []
    assert english_in(mail.text) == []


KIND_WORDS = {  # a word of each kind's own, too short to be found as an English phrase
    "solidarity-letter": {"fr": "Courriel", "es": "Correo"},
    "feature": {"fr": "Entretien", "es": "Entrevista"},
    "news-article": {"fr": "Actualités", "es": "Noticias"},
    "digest": {"fr": "Lire la suite", "es": "Leer más"},
}


@pytest.mark.parametrize("language", TRANSLATIONS)
@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_a_campaigns_layout_speaks_the_campaigns_language(kind: str, language: str) -> None:
    """The layout's words and the kind's own (News, Interview, Read more) follow the
    campaign's language; the English found is the staff's sample text, nothing of ours."""
    content = read_content(sample_path(kind))
    composition = COMPOSER.compose(
        content=content,
        template=kind,
        subject=content.header["subject"],
        preheader=content.header["preheader"],
        language=language,
    )
    values = {"name": "Nadia", "email": "nadia@coop.example.net", **URLS}
    html, text = composition.html.fill(values), composition.text.fill(values)
    staff = set(english_in(json.dumps([content.header, content.meta]) + " " + content.body))
    for part in (page_text(html), text):
        assert set(english_in(part)) <= staff
        assert UNSUBSCRIBE[language] in part
    assert lxml_html.document_fromstring(html).get("lang") == language
    assert KIND_WORDS[kind][language].lower() in (html + text).lower()


@pytest.mark.parametrize(("tag", "written_in"), [("de", "en"), ("fr-CA", "fr"), ("es_419", "es")])
def test_a_system_mail_is_in_the_language_of_ours_the_tag_means(tag: str, written_in: str) -> None:
    """German is not one of ours: English, and the mail says so; fr-CA is French."""
    composition = COMPOSER.compose_system(
        name="welcome", subject="Welcome", language=tag, meta={"lists": LISTS}
    )
    html = composition.html.fill({"name": "Nadia Haddad", **URLS})
    assert lxml_html.document_fromstring(html).get("lang") == written_in
    greetings = {"en": "Dear Nadia", "fr": "Bonjour Nadia", "es": "Hola, Nadia"}
    assert greetings[written_in] in html and UNSUBSCRIBE[written_in] in html


UNIT_TOML = """name = "Cooperatives Unit"
about = "We stand beside cooperatives."

[translations.fr]
department = "Département des entreprises"
about = "Nous sommes aux côtés des coopératives."
"""


def test_the_footer_gives_the_units_words_in_the_mails_language(tmp_path: Path) -> None:
    (tmp_path / "unit.toml").write_text(UNIT_TOML, encoding="utf-8")
    composer = Composer(templates_dir=tmp_path)
    for language, department, about in (
        ("fr", "Département des entreprises", "Nous sommes aux côtés des coopératives."),
        # unit.toml keeps the built-in department, said in Spanish by the catalogs; its
        # own about has no Spanish.
        ("es", "Departamento de Empresas", "We stand beside cooperatives."),
    ):
        mail = composer.compose_system(name="welcome", subject="S", language=language)
        for part in (mail.html.fill(URLS), mail.text.fill(URLS)):
            assert department in part and about in part, language


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('translations = "fr"', "must be tables such as"),
        ("[translations.French]\nabout = 'x'", "named by a language such as fr"),
        ("[translations.fr]\nemail = 'x@example.org'", "only the texts name, department, about"),
    ],
)
def test_unit_translations_are_checked(tmp_path: Path, table: str, error: str) -> None:
    (tmp_path / "unit.toml").write_text(table + "\n", encoding="utf-8")
    with pytest.raises(ContentError, match=error):
        load_unit(tmp_path)


@pytest.mark.parametrize("name", SYSTEM_NAMES)
def test_system_mails_have_a_preheader_of_their_own(name: str) -> None:
    """The composer may pass an empty preheader for transactional mails."""
    tree = lxml_html.document_fromstring(render(name, preheader="").html)
    preheader = tree.xpath("//div[contains(@class, 'preheader')]")[0].text_content()
    assert len(preheader.split("\u200c")[0].strip()) > 30


@pytest.mark.parametrize("name", ["feature", "system/confirm-subscription"])
def test_responsive_rules_survive_premailer(name: str) -> None:
    """They sit in a data-premailer="ignore" block, whatever the composer's options."""
    html = render(name).html
    assert "@media (max-width: 620px)" in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert "[data-ogsc]" in html
    assert "padding-left: 0 !important" in html


def test_templates_only_print_placeholders() -> None:
    """subscriber.* and the *_url values are opaque: no tests, no filters but fallback."""
    names = "|".join(re.escape(name) for name in PLACEHOLDER_NAMES)
    used = re.compile(rf"\b(?:{names})\b(?:\.\w+)?")
    for path in sorted((TEMPLATES_DIR / "email").rglob("*.*")):
        source = path.read_text(encoding="utf-8")
        for tag in re.findall(r"{%-?(.*?)-?%}", source, re.S):
            keyword = tag.split()[0] if tag.split() else ""
            if keyword in {"if", "elif", "for", "set"}:
                assert not used.search(tag), f"{path.name}: {{% {tag.strip()} %}}"
            if keyword == "trans":  # each value given to a translated sentence
                for value in re.split(r",\s*(?=\w+=)", tag.strip()[len("trans") :]):
                    if used.search(value) and "|" in value:
                        filters = re.findall(r"\|\s*(\w+)", value)
                        assert filters == ["fallback"], f"{path.name}: {{% {tag.strip()} %}}"
        for expression in re.findall(r"{{-?(.*?)-?}}", source, re.S):
            if used.search(expression) and "|" in expression:
                filters = re.findall(r"\|\s*(\w+)", expression)
                assert filters == ["fallback"], f"{path.name}: {{{{{expression}}}}}"


# --- rendering: HTML, after premailer ------------------------------------------------


LAYOUT_TABLE = {"role": "presentation", "cellpadding": "0", "cellspacing": "0", "border": "0"}
# The layout fetches nothing; only the article's own picture is remote.
REMOTE_IMAGES = {"news-article": [PICTURE_URL]}


def in_content(element: Any) -> bool:
    return bool(element.xpath("ancestor::*[contains(concat(' ', @class, ' '), ' content ')]"))


@pytest.mark.parametrize("name", NAMES)
def test_inlined_html_is_safe_for_email_clients(name: str, rendered: dict[str, Rendered]) -> None:
    html = rendered[name].html
    tree = lxml_html.document_fromstring(html)
    styles = "\n".join(style.text or "" for style in tree.iter("style"))
    assert "@media (max-width: 620px)" in styles
    assert "@media (prefers-color-scheme: dark)" in styles
    assert "[data-ogsc]" in styles
    # premailer strips !important from the styles it inlines; the media rules need it
    assert re.search(r"padding-left: 0 !important", styles)
    assert not re.search(r"@import|@font-face|url\(", styles)
    assert not tree.xpath("//script | //link | //iframe | //form | //object | //embed")
    assert not re.search(r"\son\w+=", html), "event handler attribute"
    assert tree.get("lang") == language_of(name)
    schemes = tree.xpath("//meta[@name='color-scheme']/@content")
    assert schemes == ["light dark"]
    assert tree.xpath("//meta[@name='supported-color-schemes']/@content") == ["light dark"]
    assert tree.xpath("//meta[@name='viewport']")
    for table in tree.iter("table"):
        if in_content(table):
            continue  # a data table written in the Markdown body
        attrs = {key: table.get(key) for key in LAYOUT_TABLE}
        assert attrs == LAYOUT_TABLE, lxml_html.tostring(table)[:200]
    assert "<!--[if mso]>" in html
    assert len(html.encode()) < 90_000, "Gmail clips messages over 102 KB"
    preheader = tree.xpath("//div[contains(@class, 'preheader')]")[0]
    assert preheader.text_content().startswith(rendered_context_preheader(name))
    assert "\u200c\xa0" in preheader.text_content()
    assert "display:none" in preheader.get("style").replace(" ", "")
    hrefs = tree.xpath("//a/@href")
    for key in ("unsubscribe_url", "preferences_url"):
        assert (URLS[key] in hrefs) is (name not in NOT_SUBSCRIBED), key
    assert (URLS["view_url"] in hrefs) is (name in CAMPAIGN_KINDS)
    for link in tree.xpath("//a[@href]"):
        assert link.get("href").startswith(("https://", "mailto:")), link.get("href")
    for img in tree.iter("img"):
        assert (img.get("alt") or "").strip()
        if not in_content(img):
            assert img.get("width", "").isdigit(), "template images need a width attribute"
            assert "max-width:100%" in img.get("style", "").replace(" ", "")
            assert "height:auto" in img.get("style", "").replace(" ", "")
    assert tree.xpath("//img/@src") == REMOTE_IMAGES.get(name, [])


def rendered_context_preheader(name: str) -> str:
    if name.startswith("system/"):
        return str(SYSTEM_META[name[7:]]["preheader"])
    return str(read_sample(sample_path(name)).meta["preheader"])


def test_interview_questions_are_set_apart(rendered: dict[str, Rendered]) -> None:
    tree = lxml_html.document_fromstring(rendered["feature"].html)
    questions = tree.xpath("//div[contains(@class, 'interview')]//h3")
    assert len(questions) == 5
    for question in questions:
        style = question.get("style").replace(" ", "")
        assert "border-left:4pxsolid" in style
        assert "font-weight:700" in style


@pytest.mark.parametrize(
    ("name", "href", "label"),
    [
        ("system/confirm-subscription", URLS["confirm_url"], "Confirm your subscription"),
        ("system/welcome", "https://www.example.org/cooperatives", "Visit our website"),
        ("system/unsubscribed", URLS["resubscribe_url"], "Subscribe again"),
        ("system/fr/confirm-subscription", URLS["confirm_url"], "Confirmer mon abonnement"),
        ("system/fr/welcome", "https://www.example.org/cooperatives", "Découvrir notre site"),
        ("system/fr/unsubscribed", URLS["resubscribe_url"], "Me réabonner"),
        ("system/es/confirm-subscription", URLS["confirm_url"], "Confirmar mi suscripción"),
        ("system/es/welcome", "https://www.example.org/cooperatives", "Visitar nuestro sitio web"),
        ("system/es/unsubscribed", URLS["resubscribe_url"], "Volver a suscribirme"),
    ],
)
def test_buttons_are_bulletproof(
    name: str, href: str, label: str, rendered: dict[str, Rendered]
) -> None:
    tree = lxml_html.document_fromstring(rendered[name].html)
    (button,) = tree.xpath("//a[contains(@class, 'button-link')]")
    assert button.get("href") == href
    assert button.text_content() == label
    cell = button.getparent()
    assert cell.tag == "td"
    assert cell.get("bgcolor") == "#17565b"
    assert "padding:14px28px" in button.get("style").replace(" ", "")
    # Outlook for Windows ignores the link's padding: spacers only it reads pad the link
    # itself (the sides by letter-spacing, top and bottom by mso-text-raise), so the whole
    # button is the link there too, and the cell adds no padding of its own.
    outlook_only = [str(c.text) for c in button.iter(lxml_etree.Comment)]
    assert len(outlook_only) == 2 and all(c.startswith("[if mso]>") for c in outlook_only)
    assert "letter-spacing:28px" in outlook_only[0] and "mso-text-raise:21pt" in outlook_only[0]
    assert "letter-spacing:28px" in outlook_only[1]
    assert "mso-padding-alt" not in cell.get("style")
    assert not tree.xpath("//a[contains(@class, 'button-link')]//img")


# --- in a browser ------------------------------------------------------------------------

PLACEHOLDER_PHOTO = """<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675"
viewBox="0 0 1200 675"><rect width="1200" height="675" fill="#9fb8bb"/>
<circle cx="300" cy="330" r="90" fill="#7d9ea2"/><circle cx="600" cy="300" r="110" fill="#6f9397"/>
<circle cx="900" cy="330" r="90" fill="#7d9ea2"/><rect y="470" width="1200" height="205"
fill="#5f8589"/></svg>"""

PROBE = """(url) => {
  const parseColor = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r, g, b, a: a === undefined ? 1 : a};
  };
  const luminance = ({r, g, b}) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backgroundOf = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = parseColor(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const contrastOf = (element) => {
    const fg = parseColor(getComputedStyle(element).color);
    const [hi, lo] = [luminance(fg), luminance(backgroundOf(element))].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // WCAG AA for every visible piece of text: 4.5:1, or 3:1 for large text.
  const lowContrast = [];
  for (const element of document.body.querySelectorAll('*')) {
    const ownText = [...element.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
    if (!ownText || !element.checkVisibility({opacityProperty: true, visibilityProperty: true})) {
      continue;
    }
    const style = getComputedStyle(element);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const ratio = contrastOf(element);
    if (ratio < (large ? 3 : 4.5) || style.color === 'rgb(0, 0, 238)') {
      lowContrast.push(`${element.tagName}.${element.className}: ${ownText.slice(0, 40)} `
        + `(${style.color}, ${ratio.toFixed(2)})`);
    }
  }
  const link = [...document.querySelectorAll('a')].find((a) => a.href === url);
  const describe = (link) => {
    let hidden = false;
    for (let e = link; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) {
        hidden = true;
      }
    }
    const style = getComputedStyle(link);
    const fg = parseColor(style.color);
    const [hi, lo] = [luminance(fg), luminance(backgroundOf(link))].sort((x, y) => y - x);
    const rect = link.getBoundingClientRect();
    return {
      text: link.textContent.trim(), width: rect.width, height: rect.height, hidden,
      color: style.color, alpha: fg.a, contrast: (hi + 0.05) / (lo + 0.05),
      fontSize: parseFloat(style.fontSize),
    };
  };
  const main = document.querySelector('.main');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    lowContrast,
    images: [...document.images].map((i) => ({
      alt: i.getAttribute('alt'), width: i.getBoundingClientRect().width, loaded: i.naturalWidth,
    })),
    unsubscribe: link ? describe(link) : null,
    buttons: [...document.querySelectorAll('.button-link')].map((b) => {
      const r = b.getBoundingClientRect();
      return {text: b.textContent.trim(), width: r.width, height: r.height};
    }),
    body: {fontSize: parseFloat(getComputedStyle(main).fontSize),
           lineHeight: parseFloat(getComputedStyle(main).lineHeight)},
  };
}"""


def serve_offline(page: Page, requested: list[str]) -> None:
    """No network: images get a local placeholder picture, anything else is refused."""

    def handle(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER_PHOTO)
        else:
            route.abort()

    page.route("**/*", handle)


@pytest.mark.parametrize("name", NAMES)
def test_html_in_chromium(name: str, rendered: dict[str, Rendered], browser: Browser) -> None:
    mail = rendered[name]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 640, "height": 900})
    try:
        page = context.new_page()
        requested: list[str] = []
        serve_offline(page, requested)
        page.set_content(mail.html, wait_until="load")
        for width, scheme in ((640, "light"), (375, "light"), (375, "dark"), (320, "light")):
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            suffix = "-dark" if scheme == "dark" else ""
            page.screenshot(path=ARTIFACTS / f"{mail.slug}-{width}{suffix}.png", full_page=True)
            probe = page.evaluate(PROBE, URLS["unsubscribe_url"])
            where = f"{name} at {width} px, {scheme}"
            assert probe["scrollWidth"] <= width, f"{where}: scrolls sideways"
            assert not probe["lowContrast"], f"{where}: text below WCAG AA contrast"
            for image in probe["images"]:
                assert (image["alt"] or "").strip(), f"{where}: image without alt text"
                assert 0 < image["width"] <= width, f"{where}: image {image}"
                assert image["loaded"] > 0, f"{where}: image did not load"
            unsubscribe = probe["unsubscribe"]
            if name in NOT_SUBSCRIBED:
                assert unsubscribe is None, f"{where}: nothing to unsubscribe from"
            else:
                assert unsubscribe["text"] == UNSUBSCRIBE[language_of(name)]
                assert unsubscribe["width"] > 0 and unsubscribe["height"] > 0, where
                assert not unsubscribe["hidden"], f"{where}: the unsubscribe link is hidden"
                assert unsubscribe["alpha"] > 0, f"{where}: the unsubscribe link is transparent"
                assert unsubscribe["contrast"] >= 4.5, f"{where}: {unsubscribe}"
                assert unsubscribe["fontSize"] >= 14, where
            assert probe["body"] == {"fontSize": 16, "lineHeight": 24}, where
            for button in probe["buttons"]:  # comfortable touch targets
                assert button["height"] >= 44 and button["width"] >= 120, f"{where}: {button}"
        assert sorted(set(requested)) == REMOTE_IMAGES.get(name, [])
    finally:
        context.close()
