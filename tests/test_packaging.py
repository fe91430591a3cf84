"""The wheel carries every data file the code loads: templates, migrations, demo data.

An editable checkout finds these files on disk whatever pyproject.toml says; only a built
wheel shows what users get (a template that was not packaged broke every campaign once).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = ("coopmail", "templates", "mailer", "subscribers", "campaigns")


def _files_on_disk() -> set[str]:
    """Every shipped file inside a package: code, templates, migrations, demo data, and the
    admin's static files (a script left out once stopped `coopmail serve` from starting)."""
    return {name for name in _shipped_files() if name.split("/")[0] in PACKAGES}


def _shipped_files() -> list[str]:
    """What a clean clone holds: the tracked files, and new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell the shipped files from build leftovers")
    return [name for name in listed.stdout.splitlines() if (REPOSITORY / name).is_file()]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The wheel built from the sdist, as pip builds one: a wheel built in the checkout
    would also carry whatever an earlier build left in ./build."""
    source, outdir = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in _shipped_files():  # a clean tree: no ./build or *.egg-info of earlier builds
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPOSITORY / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = outdir.glob("coopmail-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_file_of_every_package_is_in_the_wheel(wheel_files: set[str]) -> None:
    on_disk = _files_on_disk()
    assert any(name.endswith(".po") for name in on_disk)  # the catalogs: the words of the mails
    assert any(name.endswith(".js") for name in on_disk)  # the admin's script
    missing = sorted(on_disk - wheel_files)
    assert not missing, f"left out of the wheel (see [tool.setuptools.package-data]): {missing}"


def test_the_wheel_carries_no_tests_benchmarks_or_caches(wheel_files: set[str]) -> None:
    unexpected = sorted(
        name
        for name in wheel_files
        if name.split("/")[0] in ("tests", "bench", "docs") or "__pycache__" in name
    )
    assert not unexpected
