"""The API's part of the studio: kinds, warnings, editing drafts, checks, progress, reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.coopmail.web.api.test_api import Api, api, assert_error, make_api, partners

__all__ = ["api", "partners"]


def test_the_kinds_and_their_fields_are_listed(api: Api) -> None:
    kinds = {kind["name"]: kind for kind in api.ok("GET", "/api/v1/kinds")}
    assert set(kinds) == {"solidarity-letter", "feature", "news-article", "digest"}
    letter = {field["name"]: field for field in kinds["solidarity-letter"]["fields"]}
    assert letter["date"]["default"] == "send_date" and letter["date"]["type"] == "date"
    assert letter["salutation"]["words"] == "Dear colleagues and friends,"
    assert [f["name"] for f in kinds["feature"]["fields"]] == ["intro", "interviewee", "role"]


def test_a_draft_with_an_unknown_field_comes_back_with_a_warning(partners: Api) -> None:
    content = "---\nsubject: Hi\ntemplate: feature\nlists: [partners]\nintervewee: A\n---\nB.\n"
    created = partners.ok("POST", "/api/v1/campaigns", 201, json={"content": content})
    assert created["warnings"] == [
        "feature does not use intervewee; its fields are: intro, interviewee, role"
    ]
    assert partners.ok("GET", f"/api/v1/campaigns/{created['id']}")["warnings"] == []
    wrong = content.replace("intervewee: A", "role: [1, 2]")
    response = partners("POST", "/api/v1/campaigns", json={"content": wrong})
    assert_error(response, 422, "invalid_content", "role must be text")


def draft(api: Api) -> int:
    content = "---\nsubject: Hi\ntemplate: solidarity-letter\nlists: [partners]\n---\nBody.\n"
    created = api.ok("POST", "/api/v1/campaigns", 201, json={"content": content})
    return int(created["id"])


def test_a_draft_is_changed_compared_restored_and_deleted(partners: Api) -> None:
    number = draft(partners)
    url = f"/api/v1/campaigns/{number}"
    put = partners.ok("PUT", f"{url}/content", json={"content": "---\nsubject: Hello\n---\nNew.\n"})
    assert put["subject"] == "Hello" and put["lists"] == ["partners"]
    patched = partners.ok("PATCH", url, json={"preheader": "A line", "fields": {"place": "Dakar"}})
    assert patched["preheader"] == "A line" and patched["subject"] == "Hello"
    revisions = partners.ok("GET", f"{url}/revisions")
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert revisions[0]["author"] == "API key test client" and revisions[0]["source"] is None
    one = partners.ok("GET", f"{url}/revisions/3")
    assert "place: Dakar" in one["source"]
    diff = partners.ok("GET", f"{url}/diff", params={"old": 1, "new": 2})["diff"]
    assert "-Body." in diff and "+New." in diff
    restored = partners.ok("POST", f"{url}/revisions/1/restore")
    assert restored["subject"] == "Hi"
    assert partners.ok("GET", f"{url}/revisions")[-1]["restored_from"] == 1
    assert_error(partners("GET", f"{url}/revisions/9"), 404, "not_found", "no revision 9")
    assert_error(
        partners("PUT", f"{url}/content", json={"content": "{{ nope }}"}),
        422,
        "invalid_content",
        "line 1",
    )
    assert partners("DELETE", url).status_code == 204
    assert_error(partners("GET", url), 404, "not_found")


def test_a_campaign_past_its_draft_is_refused_with_its_own_code(partners: Api) -> None:
    number = draft(partners)
    partners.ok(
        "POST", f"/api/v1/campaigns/{number}/schedule", json={"at": "2099-01-01T09:00:00+00:00"}
    )
    response = partners("DELETE", f"/api/v1/campaigns/{number}")
    assert_error(response, 409, "not_a_draft", "is scheduled; only a draft can be deleted")
    partners.ok("PATCH", f"/api/v1/campaigns/{number}", json={"subject": "Still editable"})


def test_unsaved_content_is_previewed(partners: Api) -> None:
    result = partners.ok(
        "POST",
        "/api/v1/preview",
        json={"content": "Hello <script>alert(1)</script>", "template": "feature"},
    )
    assert result["recipient"] == "reader@example.org"
    assert "<script>" not in result["html"] and "Hello" in result["text"]
    response = partners(
        "POST", "/api/v1/preview", json={"content": "{{ x }}", "template": "feature"}
    )
    assert_error(response, 422, "invalid_content", "line 1")


def test_a_time_without_an_offset_is_in_the_units_time_zone(
    engine: Engine, database_url: str, tmp_path: Path, session: Session
) -> None:
    app, token = make_api(
        engine=engine,
        database_url=database_url,
        workdir=tmp_path,
        COOPMAIL_TIMEZONE="Europe/Zurich",
    )
    with TestClient(app) as client:
        zurich = Api(client=client, token=token, session=session)
        zurich.ok("POST", "/api/v1/lists", 201, json={"name": "partners", "title": "Partners"})
        number = draft(zurich)
        url = f"/api/v1/campaigns/{number}/schedule"
        winter = zurich.ok("POST", url, json={"at": "2099-01-15T09:00:00"})
        assert datetime.fromisoformat(winter["scheduled_at"]) == datetime(
            2099, 1, 15, 8, tzinfo=UTC
        )
        summer = zurich.ok("POST", url, json={"at": "2099-07-15T09:00"})
        assert datetime.fromisoformat(summer["scheduled_at"]) == datetime(
            2099, 7, 15, 7, tzinfo=UTC
        )
        offset = zurich.ok("POST", url, json={"at": "2099-07-15T09:00:00+00:00"})
        assert datetime.fromisoformat(offset["scheduled_at"]) == datetime(
            2099, 7, 15, 9, tzinfo=UTC
        )


def test_checklist_progress_report_and_deliveries_of_a_draft(partners: Api) -> None:
    partners.ok(
        "POST",
        "/api/v1/subscribers",
        201,
        json={"email": "ada@coop.example.org", "lists": ["partners"], "status": "confirmed"},
    )
    number = draft(partners)
    url = f"/api/v1/campaigns/{number}"
    items = {i["name"]: i for i in partners.ok("GET", f"{url}/checklist")["items"]}
    assert items["recipients"]["detail"]["total"] == 1 and items["dkim"]["verdict"] == "fail"
    progress = partners.ok("GET", f"{url}/progress")
    assert (progress["status"], progress["total"], progress["seconds_left"]) == ("draft", 0, None)
    report = partners.ok("GET", f"{url}/report")
    assert report["totals"]["recipients"] == 0 and report["domains"] == []
    assert partners.ok("GET", f"{url}/deliveries", params={"address": "ada"}) == []
    assert_error(partners("GET", "/api/v1/campaigns/999/report"), 404, "not_found")
