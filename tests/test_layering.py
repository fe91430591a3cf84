"""The packages depend one way: shell -> campaigns -> subscribers; mailer stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "mailer": {"sqlalchemy", "alembic", "subscribers", "campaigns", "coopmail", "templates"},
    "subscribers": {"campaigns", "coopmail", "mailer", "templates"},
    "campaigns": {"coopmail"},
    "templates": {"sqlalchemy", "subscribers", "campaigns", "coopmail", "mailer"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    violations = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_roots(path) & FORBIDDEN[package]
    }
    assert not violations


WEB = ROOT / "coopmail" / "web"
WEB_SIBLINGS = ("api", "public", "admin")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("sibling", WEB_SIBLINGS)
def test_the_web_siblings_never_import_each_other(sibling: str) -> None:
    """The API, the public pages and the admin share only what lives in coopmail.web."""
    others = {f"coopmail.web.{name}" for name in WEB_SIBLINGS if name != sibling}
    violations = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((WEB / sibling).rglob("*.py"))
        for module in imported_modules(path)
        if any(module == other or module.startswith(other + ".") for other in others)
    }
    assert not violations


def test_the_shared_web_modules_import_no_sibling() -> None:
    violations = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(WEB.glob("*.py"))
        if path.name != "app.py"  # assembles the application from the siblings
        for module in imported_modules(path)
        if any(module.startswith(f"coopmail.web.{name}") for name in WEB_SIBLINGS)
    }
    assert not violations


DOMAIN_PACKAGES = ("mailer", "subscribers", "campaigns")


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal but docstrings, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_messages_name_no_commands_or_settings(package: str) -> None:
    """The packages say what happened; the shell (CLI, API, admin) says what to do in its
    own terms, so no message of theirs tells an API client to run a command."""
    violations = [
        f"{path.relative_to(ROOT)}:{line}: {value[:60]!r}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, value in _string_constants(path)
        if "`coopmail " in value or "COOPMAIL_" in value
    ]
    assert not violations
