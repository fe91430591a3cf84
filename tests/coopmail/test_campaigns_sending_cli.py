"""Senders, progress and reports from the command line, with mail going to a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.smtp_server import RecordingSmtpServer

SENDERS = "Cooperatives Unit <coop@example.org> | replies@example.org; News desk <news@example.org>"


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.fixture
def ready(run: Cli, smtp_server: RecordingSmtpServer) -> Cli:
    run.env.update(
        {
            "COOPMAIL_SECRET_KEY": "cli-delivery-secret-key-123456",
            "COOPMAIL_BASE_URL": "https://news.example.org",
            "COOPMAIL_SMTP_URL": smtp_server.url,
            "COOPMAIL_SENDERS": SENDERS,
        }
    )
    run.ok("lists", "create", "partners")
    for index in range(4):
        run.ok("subscribers", "add", f"p{index}@coop{index % 2}.example.org", "--list", "partners")
    return run


def letter(tmp_path: Path, *, sender: str | None = None, reply_to: str | None = None) -> str:
    lines = ["---", "subject: Thanks", "template: solidarity-letter", "lists: [partners]"]
    if sender:
        lines.append(f"from: {sender}")
    if reply_to:
        lines.append(f"reply_to: {reply_to}")
    (tmp_path / "letter.md").write_text("\n".join([*lines, "---", "A short letter.\n"]))
    return "letter.md"


def test_a_campaign_picks_a_configured_sender_and_its_reply_to(
    ready: Cli, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    refused = ready("campaigns", "create", "--content", letter(tmp_path, sender="x@elsewhere.org"))
    assert refused.exit_code == 1
    assert "from: x@elsewhere.org is not one of the senders: Cooperatives Unit" in refused.stderr
    created = ready.ok("campaigns", "create", "--content", letter(tmp_path), "--json").json()
    shown = ready.ok("campaigns", "show", str(created["id"]), "--json").json()
    assert shown["from"] == "Cooperatives Unit <coop@example.org>"
    assert shown["reply_to"] == "replies@example.org"
    other = ready.ok(
        "campaigns", "create", "--content", letter(tmp_path, sender="NEWS@example.org"), "--json"
    ).json()
    shown = ready.ok("campaigns", "show", str(other["id"]), "--json").json()
    assert shown["reply_to"] is None

    ready.ok("campaigns", "send", str(created["id"]))
    messages = [
        email.message_from_bytes(m.data, policy=email.policy.default) for m in smtp_server.messages
    ]
    assert len(messages) == 4
    assert {m["Reply-To"] for m in messages} == {"replies@example.org"}
    assert {m["From"] for m in messages} == {"Cooperatives Unit <coop@example.org>"}


def test_a_sender_setting_that_is_not_an_address_is_refused(ready: Cli) -> None:
    ready.env["COOPMAIL_SENDERS"] = "Cooperatives Unit <coop@example.org>; not an address <"
    result = ready("campaigns", "list")
    assert result.exit_code == 3 and "COOPMAIL_SENDERS" in result.stderr


def test_the_report_counts_per_domain_and_finds_rows_by_address(
    ready: Cli, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    created = ready.ok("campaigns", "create", "--content", letter(tmp_path), "--json").json()
    campaign = str(created["id"])
    smtp_server.fail(stage="rcpt", recipient="p1@coop1.example.org", code=550, times=None)
    ready("campaigns", "send", campaign)
    data = ready.ok("campaigns", "report", campaign, "--json").json()
    assert data["totals"]["recipients"] == 4 and data["totals"]["delivered"] == 3
    assert data["totals"]["failed"] == 1
    domains = {row["domain"]: row for row in data["domains"]}
    assert domains["coop1.example.org"]["failed"] == 1
    assert domains["coop0.example.org"]["delivered"] == 2
    assert data["progress"]["done"] == 4 and data["progress"]["seconds_left"] is None
    found = ready.ok("campaigns", "report", campaign, "--search", "P1@COOP1", "--json").json()
    assert [(row["email"], row["state"]) for row in found["deliveries"]] == [
        ("p1@coop1.example.org", "failed")
    ]
    shown = ready.ok("campaigns", "report", campaign, "--search", "p1@").stdout
    assert "p1@coop1.example.org" in shown and "550" in shown


def test_the_checklist_names_what_to_fix(ready: Cli, tmp_path: Path) -> None:
    (tmp_path / "news.md").write_text(
        "---\nsubject: Storage\ntemplate: news-article\nlists: [partners]\n"
        "image: https://www.example.org/a.jpg\nimage_alt: Sacks of grain in a store\n---\n"
        "See [our page](http://www.example.org/page) and [this](javascript:alert(1)).\n"
    )
    # Offline: the remote image is not fetched (an image without alt text is refused before
    # this, at create; the checklist still checks what templates add).
    created = ready.ok(
        "campaigns", "create", "--content", "news.md", "--no-image-check", "--json"
    ).json()
    result = ready("campaigns", "check", str(created["id"]), "--json")
    assert result.exit_code == 1
    items = {item["name"]: item for item in result.json()["items"]}
    assert items["subject_and_preheader"]["verdict"] == "warn"
    assert items["dkim"]["verdict"] == "fail"
    assert items["image_alt_text"]["verdict"] == "ok"
    assert items["unsubscribe_link"]["verdict"] == "ok"
    assert items["links"]["detail"]["not_https"] == ["http://www.example.org/page"]
    assert items["recipients"]["detail"] == {
        "lists": [{"list": "partners", "recipients": 4}],
        "total": 4,
    }
    assert items["spam_score"]["verdict"] in ("ok", "warn", "fail", "skipped")
    if shutil.which("spamassassin") is None:
        assert items["spam_score"]["detail"] == {"reason": "not_installed"}
    else:
        assert items["spam_score"]["detail"]["required"] > 0
    words = ready("campaigns", "check", str(created["id"])).stdout
    assert "http://www.example.org/page" in words
    assert "no DKIM key is configured" in words
