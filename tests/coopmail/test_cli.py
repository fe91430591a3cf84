"""The command line: every command helps, scripts get JSON, people get one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from coopmail.cli import cli
from coopmail.cli.params import RowIdType
from subscribers.addresses import address_hash
from subscribers.models import Subscriber, Suppression
from tests.conftest import Cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_lists(run: Cli) -> None:
    created = run.ok(
        "lists",
        "create",
        "news-fr",
        "--title",
        "Nouvelles",
        "--single-opt-in",
        "--public",
        "--json",
    ).json()
    assert created == {
        "name": "news-fr",
        "title": "Nouvelles",
        "opt_in": "single",
        "public": True,
        "language": None,
        "timezone": None,
    }
    listed = run.ok("lists", "list", "--json").json()
    assert listed[0]["name"] == "news-fr" and listed[0]["confirmed"] == 0

    duplicate = run("lists", "create", "news-fr")
    assert duplicate.exit_code == 1
    assert duplicate.stderr == "Error: a list named 'news-fr' already exists\n"
    bad = run("lists", "create", "News FR")
    assert bad.exit_code == 1 and "must be a slug" in bad.stderr


def test_add_show_remove_erase(run: Cli, session: Session) -> None:
    run.ok("lists", "create", "partners")
    run.ok("lists", "create", "digest")
    added = run.ok(
        "subscribers",
        "add",
        "Kwame@Cocoa.example.org",
        "--list",
        "partners",
        "--list",
        "digest",
        "--name",
        "Kwame Owusu",
        "--language",
        "en",
        "--attribute",
        "country=Ghana",
        "--json",
    ).json()
    assert added == {
        "email": "kwame@cocoa.example.org",
        "created": True,
        "subscriptions": {"partners": "confirmed", "digest": "confirmed"},
    }
    data = run.ok("subscribers", "show", "KWAME@cocoa.example.org", "--json").json()
    assert data["name"] == "Kwame Owusu" and data["attributes"] == {"country": "Ghana"}
    assert [s["list"] for s in data["subscriptions"]] == ["digest", "partners"]
    assert [c["source"] for c in data["consent_records"]] == ["staff", "staff"]
    assert data["suppression"] is None
    assert "Kwame Owusu" in run.ok("subscribers", "show", "kwame@cocoa.example.org").stdout

    run.ok("subscribers", "remove", "kwame@cocoa.example.org", "--list", "digest")
    data = run.ok("subscribers", "show", "kwame@cocoa.example.org", "--json").json()
    assert {s["list"]: s["status"] for s in data["subscriptions"]} == {
        "digest": "unsubscribed",
        "partners": "confirmed",
    }

    refused = run("subscribers", "remove", "kwame@cocoa.example.org")
    assert refused.exit_code == 2 and "--yes" in refused.stderr

    erased = run.ok("subscribers", "erase", "kwame@cocoa.example.org", "--yes", "--json").json()
    assert erased == {"erased": True, "suppressed": True}
    assert session.scalar(select(Subscriber)) is None
    entry = session.scalar(select(Suppression))
    assert entry is not None
    assert entry.email is None and entry.email_hash == address_hash("kwame@cocoa.example.org")
    gone = run("subscribers", "show", "kwame@cocoa.example.org")
    assert gone.exit_code == 1 and "no subscriber" in gone.stderr
    again = run("subscribers", "add", "kwame@cocoa.example.org", "--list", "partners")
    assert again.exit_code == 1 and "is suppressed (erased)" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "Eve\r\nBcc: all@example.org"), "name contains a line break"),
        (("--language", "english please"), "is not a language tag"),
        (("--attribute", "novalue"), "is not KEY=VALUE"),
    ],
)
def test_add_rejects_bad_fields_and_writes_nothing(
    run: Cli, session: Session, args: tuple[str, ...], message: str
) -> None:
    run.ok("lists", "create", "partners")
    result = run("subscribers", "add", "eve@example.org", "--list", "partners", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert session.scalar(select(Subscriber)) is None


def test_subscriber_list_pages_and_searches(run: Cli) -> None:
    run.ok("lists", "create", "partners")
    for index in range(5):
        run.ok(
            "subscribers",
            "add",
            f"p{index}@example.org",
            "--list",
            "partners",
            "--name",
            f"Partner {index}",
        )
    page = run.ok("subscribers", "list", "--list", "partners", "--limit", "2", "--json").json()
    assert page["total"] == 5 and len(page["subscribers"]) == 2
    assert page["subscribers"][0]["status"] == "confirmed"
    found = run.ok("subscribers", "list", "--search", "partner 3", "--json").json()
    assert [s["email"] for s in found["subscribers"]] == ["p3@example.org"]
    ids = [s["id"] for s in page["subscribers"]]  # what the API's /subscribers/{id} takes
    assert len(set(ids)) == 2 and all(isinstance(i, int) for i in ids)
    human = run.ok("subscribers", "list", "--limit", "2")
    assert f"2 of 5; next page: --after {ids[1]}" in human.stderr


def test_subscriber_list_pages_by_cursor_unshifted_by_newcomers(run: Cli) -> None:
    """Before: --offset, so a person added between two pages shifted the next one."""
    run.ok("lists", "create", "partners")
    for index in range(5):
        run.ok("subscribers", "add", f"p{index}@example.org", "--list", "partners")
    seen: list[str] = []
    page = run.ok("subscribers", "list", "--limit", "2", "--json").json()
    run.ok("subscribers", "add", "late@example.org", "--list", "partners")
    while True:
        seen += [s["email"] for s in page["subscribers"]]
        if page["next"] is None:
            break
        after = str(page["next"])
        page = run.ok("subscribers", "list", "--limit", "2", "--after", after, "--json").json()
    assert seen == [f"p{index}@example.org" for index in reversed(range(5))]
    bad = run("subscribers", "list", "--after", "0")
    assert bad.exit_code == 2 and "--after" in bad.stderr


def test_suppressions_commands(run: Cli) -> None:
    run.ok("suppressions", "add", "Spam@Example.org", "--note", "asked by phone")
    listed = run.ok("suppressions", "list", "--json").json()
    assert listed[0]["email"] == "spam@example.org" and listed[0]["reason"] == "manual"
    run.ok("suppressions", "remove", "spam@example.org")
    assert run("suppressions", "remove", "spam@example.org").exit_code == 1


def test_config_show_masks_secrets(run: Cli) -> None:
    run.env["COOPMAIL_SMTP_URL"] = "smtp://mailer:topsecretpw@relay.example.org:587"
    run.env["COOPMAIL_SECRET_KEY"] = "anotherverysecretkey"
    shown = run.ok("config", "show", "--json").json()
    assert shown["settings"]["smtp_url"] == "smtp://mailer:***@relay.example.org:587"
    assert shown["sources"]["smtp_url"] == "environment"
    human = run.ok("config", "show").stdout
    assert "topsecretpw" not in human and "anotherverysecretkey" not in human
    key = run.ok("config", "new-secret-key").stdout.strip()
    assert len(key) >= 40


def test_db_upgrade_and_status_on_a_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"COOPMAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "COOPMAIL_CONFIG": ""}
    runner = CliRunner()
    behind = runner.invoke(cli, ["lists", "list"], env=env)
    assert behind.exit_code == 3
    assert "no coopmail schema yet; create it with `coopmail db upgrade`" in behind.stderr
    assert runner.invoke(cli, ["db", "status", "--json"], env=env).exit_code == 1
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    status = runner.invoke(cli, ["db", "status", "--json"], env=env)
    assert status.exit_code == 0 and '"up_to_date": true' in status.stdout
    assert "up to date" in runner.invoke(cli, ["db", "upgrade"], env=env).stderr


def coopmail(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coopmail", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_real_processes_fail_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {"COOPMAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "COOPMAIL_CONFIG": ""}
    cases = [
        (("lists", "list"), 3, "coopmail db upgrade"),
        (("subscribers", "import", "nope.csv", "--list", "x"), 3, "coopmail db upgrade"),
        (("frobnicate",), 2, "No such command"),
    ]
    for args, code, text in cases:
        result = coopmail(*args, env=env, cwd=tmp_path)
        assert result.returncode == code, result.stderr
        assert text in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    bad_url = coopmail("lists", "list", env={"COOPMAIL_DATABASE_URL": "mysql://x/y"}, cwd=tmp_path)
    assert bad_url.returncode == 3
    assert bad_url.stderr.strip().count("\n") == 0 and "Traceback" not in bad_url.stderr


def test_demo_twice(tmp_path: Path) -> None:
    first = coopmail("demo", env={"COOPMAIL_CONFIG": ""}, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Demo ready" in first.stderr
    assert "20 new" in first.stdout
    second = coopmail("demo", env={"COOPMAIL_CONFIG": ""}, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 new, 20 already there" in second.stdout
    config = tmp_path / "coopmail-demo" / "coopmail.toml"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    listed = coopmail(
        "subscribers",
        "list",
        "--list",
        "partners",
        "--json",
        env={"COOPMAIL_CONFIG": str(config)},
        cwd=tmp_path,
    )
    assert '"total": 20' in listed.stdout
    preview = tmp_path / "coopmail-demo" / "preview"
    assert sorted(p.name for p in preview.iterdir()) == [
        "campaign-1.eml",
        "campaign-1.html",
        "campaign-1.txt",
    ]
    assert "letter of solidarity" in second.stdout
    campaigns = coopmail(
        "campaigns", "list", "--json", env={"COOPMAIL_CONFIG": str(config)}, cwd=tmp_path
    )
    assert campaigns.stdout.count('"id"') == 1  # the second run reused the letter
    for run in (first, second):  # an owner to log in with, and a fresh first-login link
        words = " ".join(run.stderr.split())
        assert "http://localhost:8000/admin/login as owner@coop.example.org" in words
        links = [line.strip() for line in run.stderr.splitlines() if "/admin/password/" in line]
        assert len(links) == 1 and links[0].startswith("http://localhost:8000/admin/password/")
    users = coopmail("users", "list", "--json", env={"COOPMAIL_CONFIG": str(config)}, cwd=tmp_path)
    assert [(u["email"], u["role"]) for u in json.loads(users.stdout)] == [
        ("owner@coop.example.org", "owner")
    ]


def test_the_demos_next_steps_run_as_printed_in_a_new_shell(tmp_path: Path) -> None:
    """What `coopmail demo` prints under "Try next" works pasted into a fresh terminal,
    even one whose COOPMAIL_* variables point at a real installation."""
    foreign = {
        "COOPMAIL_CONFIG": "",
        "COOPMAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "COOPMAIL_SMTP_URL": "smtp://relay.invalid:25",
    }
    demo = coopmail("demo", env=foreign, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert not (tmp_path / "production.db").exists()  # the demo kept to its own database
    outbox = tmp_path / "coopmail-demo" / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 20  # sent through the demo's capture URL

    steps = demo.stderr.split("Try next:", 1)[1].splitlines()
    commands = [
        line.split("    #")[0].strip()
        for line in steps
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert commands[0] == ". coopmail-demo/activate"
    script = " && ".join(
        [commands[0], *(c for c in commands[1:] if c.split()[:2] != ["coopmail", "serve"])]
    ).replace("--open", "")
    shell_env = {key: value for key, value in os.environ.items() if not key.startswith("COOPMAIL")}
    shell_env |= foreign | {"PATH": "/usr/bin:/bin"}  # a terminal without the venv on PATH
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=shell_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "confirmed" in result.stdout  # the list, from the demo's database
    assert "│ sent " in result.stdout  # the campaign's status
    assert (tmp_path / "coopmail-demo" / "preview" / "campaign-1.html").is_file()

    test_send = subprocess.run(
        ["bash", "-c", ". coopmail-demo/activate && coopmail campaigns test 1 --to me@example.org"],
        cwd=tmp_path,
        env=shell_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert test_send.returncode == 0, test_send.stderr
    assert len(list(outbox.glob("*me@example.org.eml"))) == 1  # one outbox for everything


def _commands_taking_an_id(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[Any]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands_taking_an_id(command, (*path, name))
            continue
        for param in command.params:
            if isinstance(param.type, RowIdType):
                yield (*path, name), param


@pytest.mark.parametrize("wrong", [str(2**63), "٣", "0", "twelve"])
def test_an_id_that_cannot_name_a_row_is_a_usage_error_in_every_command(
    run: Cli, wrong: str
) -> None:
    """Past a BIGINT the database driver raised (an "internal error", exit 70), and int()
    read "٣" as 3. Every command taking a campaign or item id says what to write."""
    found = list(_commands_taking_an_id(cli))
    assert len(found) >= 20
    for path, param in found:
        value = [wrong] if isinstance(param, click.Argument) else [param.opts[0], wrong]
        result = run(*path, *value)
        assert result.exit_code == 2, (path, result.stderr)
        assert "is not an id: write a whole number such as 12" in result.stderr, path
