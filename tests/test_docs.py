"""The README stays a short front door whose links lead into the documentation site.

The strict MkDocs build (`make docs`, run in CI) checks the site itself; these tests catch,
without the documentation toolchain, what `make test` can: a README that grew again, a link
to a page that does not exist or is not on the site, a page left out of the navigation, and
a generated reference that no longer builds from the code.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 6 * 1024
# Markdown links and images, and the src of an HTML <img>.
LINK = re.compile(r"\]\(([^)\s]+)\)|<img\s[^>]*src=\"([^\"]+)\"")


def readme_targets() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [markdown or html for markdown, html in LINK.findall(text)]


def nav_pages(entries: Any) -> Iterator[str]:
    """Every page file named in mkdocs.yml's nav, however deeply nested."""
    if isinstance(entries, str):
        yield entries
    elif isinstance(entries, list):
        for entry in entries:
            yield from nav_pages(entry)
    elif isinstance(entries, dict):
        for value in entries.values():
            yield from nav_pages(value)


@pytest.fixture(scope="module")
def nav() -> set[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return set(nav_pages(config["nav"]))


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    """The MkDocs hook that writes the generated tables, loaded without MkDocs."""
    path = DOCS / "tools" / "reference.py"
    spec = importlib.util.spec_from_file_location("docs_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_stays_short() -> None:
    size = len(README.read_bytes())
    assert size < README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/"


def test_the_readme_keeps_the_two_quickstart_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


def test_every_readme_link_into_docs_leads_to_a_page_on_the_site(nav: set[str]) -> None:
    into_docs = [target for target in readme_targets() if target.startswith("docs/")]
    assert into_docs, "the README links to no page of the documentation"
    for target in into_docs:
        path = ROOT / target.split("#", 1)[0]
        assert path.is_file(), f"README.md links to {target}, which does not exist"
        if path.suffix == ".md":
            assert str(path.relative_to(DOCS)) in nav, f"{target} is not in mkdocs.yml's nav"


def test_the_readme_shows_a_sent_letter() -> None:
    pictures = [target for target in readme_targets() if target.endswith(".png")]
    assert pictures, "the README shows no picture of a letter"
    for picture in pictures:
        data = (ROOT / picture).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), f"{picture} is not a PNG"
        assert len(data) < 300 * 1024, f"{picture} is {len(data)} bytes; keep it small"


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page(nav: set[str]) -> None:
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert pages - nav == set(), "pages missing from mkdocs.yml's nav"
    assert nav - pages == set(), "nav entries without a page"


def test_every_marker_names_a_table_the_hook_can_write(reference: ModuleType) -> None:
    for page in DOCS.rglob("*.md"):
        for name in reference.MARKER.findall(page.read_text(encoding="utf-8")):
            assert name in reference.GENERATORS, f"{page.name} asks for unknown table {name!r}"


def test_the_configuration_table_has_a_row_per_setting(reference: ModuleType) -> None:
    from coopmail.config import OPTIONS

    rows = reference.configuration_table().splitlines()[2:]
    assert [row.split("|")[2].strip(" `") for row in rows] == [option.key for option in OPTIONS]


def test_the_api_reference_documents_every_api_route(reference: ModuleType) -> None:
    from coopmail.web.api.routes import PREFIX

    document = reference.openapi_document()
    page = reference.api_summary() + reference.api_reference()
    routes = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith(PREFIX)
    }
    assert len(routes) >= 14
    for method, path in routes:
        assert f"#### `{method.upper()} {path}`" in page
        assert f"[`{method.upper()} {path}`]" in page
    for name in document["components"]["schemas"]:
        assert f"#### {name} " in page
