"""One palette and one type scale for the public pages, the admin and the mails.

templates/web/static/palette.css defines them once; the pages' stylesheets name only its
properties, and the mails (which cannot load a stylesheet) write exactly its values. The
pairs the pages and mails put together meet WCAG AA contrast.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from templates import TEMPLATES_DIR

STATIC = TEMPLATES_DIR / "web" / "static"
PROPERTY = re.compile(r"--(cm-[a-z0-9-]+):\s*([^;]+);")
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
MAIL_SIZE = re.compile(r"font-size:\s*(\d+)px")
ROOT_PX = 16


def palette() -> dict[str, str]:
    return dict(PROPERTY.findall((STATIC / "palette.css").read_text(encoding="utf-8")))


def colours() -> set[str]:
    return {value.lower() for value in palette().values() if HEX.fullmatch(value)}


def scale_px() -> set[float]:
    return {
        float(value.removesuffix("rem")) * ROOT_PX
        for name, value in palette().items()
        if name.startswith("cm-text-")
    }


def mail_templates() -> list[Path]:
    return sorted((TEMPLATES_DIR / "email").rglob("*.html"))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted([luminance(one), luminance(other)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("stylesheet", ["site.css", "admin.css"])
def test_the_pages_load_the_palette_and_name_only_its_colours_and_sizes(
    stylesheet: str,
) -> None:
    css = (STATIC / stylesheet).read_text(encoding="utf-8")
    assert css.count('@import url("palette.css");') == 1
    assert HEX.findall(css) == [], "a colour of its own: add it to palette.css"
    used = set(re.findall(r"var\(--(cm-[a-z0-9-]+)\)", css))
    assert used <= set(palette()), f"unknown properties: {used - set(palette())}"
    for declaration in re.findall(r"font(?:-size)?:\s*([^;}]+)", css):
        sizes = re.findall(r"\d*\.?\d+(?:px|rem|em)\b", declaration.split("/")[0])
        assert sizes == [], f"a size outside the scale: {declaration}"


@pytest.mark.parametrize("template", mail_templates(), ids=lambda p: p.name)
def test_the_mails_write_the_palettes_colours_and_sizes(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    strays = {colour.lower() for colour in HEX.findall(source)} - colours()
    assert strays == set(), f"colours not in palette.css: {strays}"
    sizes = {float(px) for px in MAIL_SIZE.findall(source)} - {1.0}  # 1px: the hidden preheader
    assert sizes <= scale_px(), f"sizes not in the type scale: {sizes - scale_px()}"


# The pairs the pages and the mails use (text on background), and the ratio they need:
# 4.5 for text, 3 for large text and for the outlines that show focus.
PAIRS = [
    ("cm-ink", "cm-paper", 4.5),
    ("cm-ink", "cm-card", 4.5),
    ("cm-muted", "cm-card", 4.5),
    ("cm-muted", "cm-paper", 4.5),
    ("cm-muted", "cm-brand-wash", 4.5),
    ("cm-ink", "cm-brand-wash", 4.5),
    ("cm-brand", "cm-card", 4.5),
    ("cm-brand", "cm-paper", 4.5),
    ("cm-brand", "cm-brand-wash", 4.5),
    ("cm-brand-dark", "cm-brand-wash", 4.5),
    ("cm-card", "cm-brand", 4.5),
    ("cm-card", "cm-brand-dark", 4.5),
    ("cm-brand-tint", "cm-brand", 4.5),
    ("cm-card", "cm-accent", 4.5),
    ("cm-card", "cm-accent-dark", 4.5),
    ("cm-accent", "cm-card", 4.5),
    ("cm-accent", "cm-paper", 4.5),
    ("cm-accent-dark", "cm-warn-wash", 4.5),
    ("cm-ink", "cm-warn-wash", 4.5),
    ("cm-good", "cm-good-wash", 4.5),
    ("cm-ink", "cm-good-wash", 4.5),
    ("cm-focus", "cm-card", 3),
    ("cm-focus", "cm-paper", 3),
    ("cm-field", "cm-card", 3),
    ("cm-dark-ink", "cm-dark-card", 4.5),
    ("cm-dark-ink", "cm-dark-paper", 4.5),
    ("cm-dark-soft", "cm-dark-card", 4.5),
    ("cm-dark-muted", "cm-dark-card", 4.5),
    ("cm-dark-brand", "cm-dark-card", 4.5),
    ("cm-dark-accent", "cm-dark-card", 4.5),
    ("cm-dark-ink", "cm-dark-raised", 4.5),
    ("cm-dark-ink", "cm-brand-dark", 4.5),
]


@pytest.mark.parametrize(("text", "background", "needed"), PAIRS)
def test_every_pairing_meets_wcag_aa(text: str, background: str, needed: float) -> None:
    values = palette()
    assert contrast(values[text], values[background]) >= needed
