"""Our English words, from the catalogs' template, to find them where they must not be.

A page or a mail in French or Spanish must not show a sentence of ours in English: each msgid
gives the phrases it is made of (its text between placeholders and tags), and a translated
page or mail contains none of those of two words or more. Data is not ours (a list's title,
the unit's name): it comes from staff, in the language they wrote it in.
"""

from __future__ import annotations

import functools
import re

from babel.messages.pofile import read_po
from lxml import html as lxml_html

from templates.catalogs import POT_PATH

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@functools.cache
def english_phrases() -> frozenset[str]:
    """Every phrase of two words or more of every msgid (and plural) in the template."""
    with POT_PATH.open("rb") as source:
        catalog = read_po(source)
    phrases = set()
    for message in catalog:
        for text in [message.id] if isinstance(message.id, str) else list(message.id):
            for piece in _PLACEHOLDER.split(_TAG.sub(" ", text)):
                phrase = _SPACE.sub(" ", piece).strip(" ,.:;")
                if len(phrase.split(" ")) >= 2:
                    phrases.add(phrase)
    return frozenset(phrases)


def english_in(text: str) -> list[str]:
    """The phrases of ours in ``text`` (plain text; spaces of any kind count as one)."""
    flat = _SPACE.sub(" ", text.replace("\xa0", " "))
    return sorted(phrase for phrase in english_phrases() if phrase in flat)


def page_text(html: str) -> str:
    """What a reader of ``html`` sees or hears: its text and its labels for assistive tools."""
    tree = lxml_html.document_fromstring(html)
    for hidden in tree.xpath("//style | //script"):
        hidden.drop_tree()
    labels = tree.xpath("//@aria-label | //@title | //@alt | //@placeholder")
    return " ".join([tree.text_content(), *map(str, labels)])
