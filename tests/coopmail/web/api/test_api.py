"""The JSON API under /api/v1, against the real databases, through the ASGI app in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import BounceEvent
from coopmail.apikeys import ApiKey, create_api_key, revoke_api_key
from coopmail.config import load_settings
from coopmail.db import make_engine, session_scope
from coopmail.web import WebContext, create_app
from coopmail.web.api.limits import API_BODY_MAX
from mailer.bounces import BounceKind
from subscribers.lists import get_list
from subscribers.models import ConsentRecord, ConsentSource, Subscriber, SubscriptionStatus
from subscribers.people import subscribe
from tests.conftest import Clock

SECRET_KEY = "a-test-secret-key-of-some-length"
LETTER = """---
subject: Harvest notes from the producer network
template: news-article
lists: [partners]
---
Members of **three producer cooperatives** met to compare their harvest records
and agreed to share storage over the dry season.
"""


def make_api(
    *, engine: Engine, database_url: str, workdir: Path, **extra: str
) -> tuple[FastAPI, str]:
    """The application as `coopmail serve` builds it, and a fresh API key for it; without
    an SMTP relay in ``extra`` its mails are only logged as not sent."""
    environ = {"COOPMAIL_DATABASE_URL": database_url, "COOPMAIL_SECRET_KEY": SECRET_KEY, **extra}
    settings = load_settings(environ=environ, cwd=workdir)
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    with session_scope(engine) as session:
        token = create_api_key(session, name="test client").token
    return app, token


@dataclass
class Api:
    client: TestClient
    token: str
    session: Session

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.session.rollback()  # the test's next read sees what the request wrote
        return response

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def api(engine: Engine, database_url: str, tmp_path: Path, session: Session) -> Iterator[Api]:
    app, token = make_api(engine=engine, database_url=database_url, workdir=tmp_path)
    with TestClient(app) as client:
        yield Api(client=client, token=token, session=session)


@pytest.fixture
def partners(api: Api) -> Api:
    api.ok("POST", "/api/v1/lists", 201, json={"name": "partners", "title": "Partners"})
    return api


def assert_error(response: Any, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    for fragment in fragments:
        assert fragment in body["error"]["message"], body


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer not-a-key",
        "Bearer cm_00000000_" + "A" * 43,
    ],
)
def test_requests_without_a_valid_key_are_refused(api: Api, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = api.client.get("/api/v1/lists", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(api: Api) -> None:
    prefix = api.token.split("_")[1]
    forged = f"cm_{prefix}_{'B' * 43}"
    response = api.client.get("/api/v1/lists", headers={"Authorization": f"Bearer {forged}"})
    assert_error(response, 401, "unauthorized")


def test_a_revoked_key_is_refused_at_once(api: Api, engine: Engine) -> None:
    api.ok("GET", "/api/v1/lists")
    with session_scope(engine) as session:
        revoke_api_key(session, reference="test client", now=datetime.now(UTC))
    response = api("GET", "/api/v1/lists")
    assert_error(response, 401, "unauthorized", "revoked")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_using_a_key_records_when(api: Api) -> None:
    before = datetime.now(UTC)
    api.ok("GET", "/api/v1/lists")
    key = api.session.scalars(select(ApiKey)).one()
    assert key.last_used_at is not None and key.last_used_at >= before - timedelta(seconds=1)


def test_unknown_endpoints_and_methods_answer_in_the_error_shape(api: Api) -> None:
    assert_error(api("GET", "/api/v1/nothing-here"), 404, "not_found", "/api/v1/nothing-here")
    response = api("PUT", "/api/v1/lists")
    assert_error(response, 405, "method_not_allowed", "GET, POST")
    assert response.headers["Allow"] == "GET, POST"


def test_the_openapi_document_declares_the_bearer_scheme_on_every_operation(api: Api) -> None:
    document = api.client.get("/api/openapi.json").json()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    assert all(op["security"] == [{"ApiKey": []}] for op in operations)
    assert all("401" in op["responses"] and "422" in op["responses"] for op in operations)


def test_every_operation_refuses_a_request_without_a_key(api: Api) -> None:
    document = api.client.get("/api/openapi.json").json()
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            response = api.client.request(method.upper(), concrete, json={})
            assert_error(response, 401, "unauthorized")


def test_a_body_over_the_limit_is_refused_before_it_is_read_or_the_key_checked(
    api: Api,
) -> None:
    too_big = b" " * (API_BODY_MAX + 1)
    json_type = {"Content-Type": "application/json"}
    response = api.client.post("/api/v1/lists", content=too_big, headers=json_type)
    assert_error(response, 413, "too_large", str(API_BODY_MAX))
    assert "default-src 'none'" in response.headers["content-security-policy"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(API_BODY_MAX // 65536 + 1):
            yield b" " * 65536

    assert_error(
        api("POST", "/api/v1/lists", content=chunks(), headers=json_type), 413, "too_large"
    )
    # At the limit the body reaches the API, which says what is wrong with it.
    at_limit = b"{" + b" " * (API_BODY_MAX - 1)
    assert_error(
        api("POST", "/api/v1/lists", content=at_limit, headers=json_type), 400, "invalid_json"
    )


# --- lists ------------------------------------------------------------------------------


def test_lists_are_created_and_listed_with_counts(partners: Api) -> None:
    body = {"email": "a@example.org", "lists": ["partners"], "status": "confirmed"}
    partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    created = partners.ok(
        "POST",
        "/api/v1/lists",
        201,
        json={"name": "news-fr", "opt_in": "single", "public": True, "description": "En bref."},
    )
    assert created == {
        "name": "news-fr",
        "title": "News fr",
        "description": "En bref.",
        "opt_in": "single",
        "public": True,
        "confirmed": 0,
        "unconfirmed": 0,
        "unsubscribed": 0,
        "timezone": None,
    }
    listed = partners.ok("GET", "/api/v1/lists")
    assert listed["total"] == 2
    assert [(item["name"], item["confirmed"]) for item in listed["items"]] == [
        ("news-fr", 0),
        ("partners", 1),
    ]


def test_a_list_name_taken_is_a_conflict(partners: Api) -> None:
    response = partners("POST", "/api/v1/lists", json={"name": "partners"})
    assert_error(response, 409, "conflict", "already exists")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "Not A Slug"}, "name: String should match pattern"),
        ({"name": "ok", "title": "two\nlines"}, "title: Value error, must be one line"),
        ({"name": "ok", "opt_in": "triple"}, "opt_in: Input should be 'single' or 'double'"),
        ({"name": "ok", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({}, "name: Field required"),
    ],
)
def test_bad_list_input_is_a_422_naming_the_field(api: Api, body: Any, fragment: str) -> None:
    assert_error(api("POST", "/api/v1/lists", json=body), 422, "invalid_request", fragment)


def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    response = api(
        "POST", "/api/v1/lists", content=b"{name", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


# --- subscribers ------------------------------------------------------------------------


def test_a_new_subscriber_is_created_with_api_consent(partners: Api) -> None:
    response = partners(
        "POST",
        "/api/v1/subscribers",
        json={
            "email": "Amara.Diallo@Coop-Sahel.example.org",
            "lists": ["partners"],
            "name": "Amara Diallo",
            "language": "FR",
            "attributes": {"organisation": "Coop Sahel"},
            "consent": "Ticked the newsletter box on the partner registration form",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/subscribers/{created['id']}"
    assert created["email"] == "amara.diallo@coop-sahel.example.org"
    assert created["language"] == "fr"
    assert created["attributes"] == {"organisation": "Coop Sahel"}
    assert [(s["list"], s["status"]) for s in created["subscriptions"]] == [
        ("partners", "unconfirmed")  # a double opt-in list: waiting for the person
    ]
    record = partners.session.scalars(select(ConsentRecord)).one()
    assert record.source is ConsentSource.API
    assert record.wording == (
        "Ticked the newsletter box on the partner registration form (API key 'test client')"
    )


def test_subscribing_a_known_person_again_updates_them_with_200(partners: Api) -> None:
    body = {"email": "ada@example.org", "lists": ["partners"], "status": "unconfirmed"}
    first = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    again = partners.ok("POST", "/api/v1/subscribers", 200, json={**body, "name": "Ada"})
    assert again["id"] == first["id"] and again["name"] == "Ada"
    assert again["subscriptions"][0]["status"] == "unconfirmed"


def test_one_subscriber_by_id_or_by_address(partners: Api) -> None:
    body = {"email": "ada@example.org", "lists": ["partners"]}
    created = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    by_id = partners.ok("GET", f"/api/v1/subscribers/{created['id']}")
    by_address = partners.ok("GET", "/api/v1/subscribers/ADA@example.org")
    assert by_id == by_address == created
    assert by_id["consent_records"][0]["source"] == "api"
    assert by_id["bounce_events"] == []


def test_a_subscriber_shows_what_the_bounce_mailbox_said(partners: Api, engine: Engine) -> None:
    body = {"email": "ada@example.org", "lists": ["partners"], "status": "confirmed"}
    created = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    with session_scope(engine) as session:
        session.add(
            BounceEvent(
                message_key="a-full-mailbox",
                kind=BounceKind.SOFT,
                email="ada@example.org",
                subscriber_id=created["id"],
                status="4.2.2",
                diagnostic="mailbox full",
            )
        )
    shown = partners.ok("GET", f"/api/v1/subscribers/{created['id']}")
    assert [(e["kind"], e["status"], e["diagnostic"]) for e in shown["bounce_events"]] == [
        ("soft", "4.2.2", "mailbox full")
    ]


@pytest.mark.parametrize("reference", ["999", "nobody@example.org", "9" * 30])
def test_an_unknown_subscriber_is_a_404(api: Api, reference: str) -> None:
    assert_error(api("GET", f"/api/v1/subscribers/{reference}"), 404, "not_found", reference)


def test_a_malformed_address_is_a_422_saying_why(partners: Api) -> None:
    response = partners(
        "POST", "/api/v1/subscribers", json={"email": "not-an-address", "lists": ["partners"]}
    )
    assert_error(response, 422, "invalid_address")
    # In a path it names nobody: a 404, as the OpenAPI document (a string) can promise.
    assert_error(partners("GET", "/api/v1/subscribers/a@b@c"), 404, "not_found")
    assert_error(partners("DELETE", "/api/v1/subscribers/a@b@c"), 404, "not_found")


def test_subscribing_to_an_unknown_list_is_a_404_and_writes_nothing(partners: Api) -> None:
    body = {"email": "ada@example.org", "lists": ["partners", "missing"]}
    response = partners("POST", "/api/v1/subscribers", json=body)
    assert_error(response, 404, "not_found", "missing")
    assert "coopmail" not in response.json()["error"]["message"]  # no command-line hints here
    assert partners.session.scalars(select(Subscriber)).all() == []


def test_a_suppressed_address_is_a_conflict(partners: Api) -> None:
    partners.ok("DELETE", "/api/v1/subscribers/gone@example.org")
    body = {"email": "gone@example.org", "lists": ["partners"]}
    assert_error(partners("POST", "/api/v1/subscribers", json=body), 409, "suppressed")


def test_patch_changes_only_what_is_given(partners: Api) -> None:
    body = {
        "email": "ada@example.org",
        "lists": ["partners"],
        "name": "Ada",
        "language": "en",
        "attributes": {"org": "Loom Coop", "city": "Turin"},
    }
    created = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    path = f"/api/v1/subscribers/{created['id']}"
    patched = partners.ok(
        "PATCH", path, json={"language": "pt-br", "attributes": {"city": None, "role": "chair"}}
    )
    assert patched["name"] == "Ada"
    assert patched["language"] == "pt-BR"  # written the standard way
    assert patched["attributes"] == {"org": "Loom Coop", "role": "chair"}
    cleared = partners.ok("PATCH", path, json={"name": None, "language": None})
    assert cleared["name"] == "" and cleared["language"] is None
    assert cleared["attributes"] == {"org": "Loom Coop", "role": "chair"}


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"language": "not a tag"}, "invalid_field", "language"),
        ({"name": "Ada\r\nBcc: x@example.org"}, "invalid_request", "name"),
        ({"attributes": {"": "empty key"}}, "invalid_request", "attributes"),
        ({"email": "other@example.org"}, "invalid_request", "email: Extra inputs"),
    ],
)
def test_bad_patches_are_422s(partners: Api, body: Any, code: str, fragment: str) -> None:
    body_in = {"email": "ada@example.org", "lists": ["partners"]}
    partners.ok("POST", "/api/v1/subscribers", 201, json=body_in)
    response = partners("PATCH", "/api/v1/subscribers/ada@example.org", json=body)
    assert_error(response, 422, code, fragment)


def test_delete_erases_the_person_and_keeps_the_address_suppressed(partners: Api) -> None:
    body = {"email": "ada@example.org", "lists": ["partners"]}
    created = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    erased = partners.ok("DELETE", f"/api/v1/subscribers/{created['id']}")
    assert erased == {"erased": True, "suppressed": True}
    assert_error(partners("GET", "/api/v1/subscribers/ada@example.org"), 404, "not_found")
    assert partners.session.scalars(select(ConsentRecord)).all() == []
    again = partners.ok("DELETE", "/api/v1/subscribers/ada@example.org")
    assert again == {"erased": False, "suppressed": True}
    assert_error(partners("DELETE", f"/api/v1/subscribers/{created['id']}"), 404, "not_found")


# --- pagination -------------------------------------------------------------------------


def test_subscribers_come_a_page_at_a_time_following_next(partners: Api) -> None:
    partners.ok("POST", "/api/v1/lists", 201, json={"name": "news"})
    for number in range(7):
        lists = ["partners", "news"] if number % 2 else ["partners"]
        body = {
            "email": f"member{number}@example.org",
            "lists": lists,
            "name": f"M {number}",
            "status": "confirmed",
        }
        partners.ok("POST", "/api/v1/subscribers", 201, json=body)

    seen: list[str] = []
    url: str | None = "/api/v1/subscribers?list=partners&limit=3"
    pages = 0
    while url is not None:
        page = partners.ok("GET", url)
        assert page["total"] == 7 and page["limit"] == 3
        seen += [item["email"] for item in page["items"]]
        url, pages = page["next"], pages + 1
        assert url is None or ("after=" in url and "offset" not in url)
    assert pages == 3
    assert seen == [f"member{number}@example.org" for number in reversed(range(7))]

    news = partners.ok("GET", "/api/v1/subscribers?list=news&status=confirmed")
    assert [item["email"] for item in news["items"]] == [
        "member5@example.org",
        "member3@example.org",
        "member1@example.org",
    ]
    assert all(item["status"] == "confirmed" for item in news["items"])
    # Without a list, a status means on any list (before: a 422 the document did not show).
    anywhere = partners.ok("GET", "/api/v1/subscribers?status=confirmed")
    assert anywhere["total"] == 7
    assert {item["status"] for item in anywhere["items"]} == {"confirmed"}
    assert partners.ok("GET", "/api/v1/subscribers?status=unsubscribed")["total"] == 0
    found = partners.ok("GET", "/api/v1/subscribers?search=MEMBER4")
    assert [item["email"] for item in found["items"]] == ["member4@example.org"]
    assert found["items"][0]["status"] is None and found["next"] is None


def test_subscriber_pages_follow_a_cursor_and_the_old_offset_still_works(partners: Api) -> None:
    """Before: `next` carried an offset, so a person added between pages shifted them."""
    for number in range(5):
        body = {"email": f"m{number}@example.org", "lists": ["partners"], "status": "confirmed"}
        partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    first = partners.ok("GET", "/api/v1/subscribers?list=partners&limit=2")
    late = {"email": "late@example.org", "lists": ["partners"], "status": "confirmed"}
    partners.ok("POST", "/api/v1/subscribers", 201, json=late)
    second = partners.ok("GET", first["next"])
    assert [item["email"] for item in second["items"]] == ["m2@example.org", "m1@example.org"]
    assert second["total"] == 6 and second["offset"] == 0
    # The deprecated offset: the same page as before, and `next` moves to the cursor.
    old = partners.ok("GET", "/api/v1/subscribers?list=partners&limit=2&offset=3")
    assert [item["email"] for item in old["items"]] == ["m2@example.org", "m1@example.org"]
    assert old["offset"] == 3 and "offset" not in old["next"]
    last = partners.ok("GET", old["next"])
    assert [item["email"] for item in last["items"]] == ["m0@example.org"]
    assert last["next"] is None
    assert partners.ok("GET", "/api/v1/subscribers?offset=99")["items"] == []
    document = partners.client.get("/api/openapi.json").json()
    parameters = document["paths"]["/api/v1/subscribers"]
    by_name = {p["name"]: p for p in parameters["get"]["parameters"]}
    assert by_name["offset"]["deprecated"] is True and "after" in by_name


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("after=0", "after: Input should be greater than or equal to 1"),
        ("limit=501", "limit: Input should be less than or equal to 500"),
        ("offset=-1", "offset: Input should be greater than or equal to 0"),
        ("status=gone&list=partners", "status: Input should be"),
        ("list=Not%20A%20List", "list: String should match pattern"),
    ],
)
def test_bad_page_parameters_are_422s(partners: Api, query: str, fragment: str) -> None:
    response = partners("GET", f"/api/v1/subscribers?{query}")
    assert_error(response, 422, "invalid_request", fragment)


def test_filtering_by_an_unknown_list_is_a_404(api: Api) -> None:
    assert_error(api("GET", "/api/v1/subscribers?list=nowhere"), 404, "not_found", "nowhere")


# --- subscriptions ----------------------------------------------------------------------


def test_subscribe_and_unsubscribe_one_list(partners: Api) -> None:
    partners.ok("POST", "/api/v1/lists", 201, json={"name": "news"})
    body = {"email": "ada@example.org", "lists": ["partners"], "status": "confirmed"}
    created = partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    path = f"/api/v1/subscribers/{created['id']}/subscriptions"

    joined = partners.ok("POST", path, json={"list": "news", "status": "unconfirmed"})
    assert {s["list"]: s["status"] for s in joined["subscriptions"]} == {
        "news": "unconfirmed",
        "partners": "confirmed",
    }
    left = partners.ok("DELETE", f"{path}/partners")
    assert {s["list"]: s["status"] for s in left["subscriptions"]} == {
        "news": "unconfirmed",
        "partners": "unsubscribed",
    }
    assert left["consent_records"][-1]["action"] == "unsubscribe"
    assert left["consent_records"][-1]["source"] == "api"
    assert partners.ok("DELETE", f"{path}/partners") == left  # repeating changes nothing


def test_subscription_errors(partners: Api) -> None:
    partners.ok("POST", "/api/v1/lists", 201, json={"name": "news"})
    body = {"email": "ada@example.org", "lists": ["partners"]}
    partners.ok("POST", "/api/v1/subscribers", 201, json=body)
    path = "/api/v1/subscribers/ada@example.org/subscriptions"
    assert_error(partners("DELETE", f"{path}/news"), 404, "not_found", "not subscribed")
    assert_error(partners("DELETE", f"{path}/nowhere"), 404, "not_found", "nowhere")
    assert_error(partners("POST", path, json={"list": "nowhere"}), 404, "not_found")
    unknown = "/api/v1/subscribers/nobody@example.org/subscriptions"
    assert_error(partners("POST", unknown, json={"list": "news"}), 404, "not_found")


# --- campaigns --------------------------------------------------------------------------


def test_a_campaign_is_created_from_content_and_shown_with_counts(partners: Api) -> None:
    response = partners("POST", "/api/v1/campaigns", json={"content": LETTER, "name": "harvest"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/campaigns/{created['id']}"
    assert created["status"] == "draft" and created["template"] == "news-article"
    assert created["lists"] == ["partners"] and created["source"] == "harvest.md"
    assert created["counts"] == {
        "queued": 0,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "skipped": 0,
        "total": 0,
    }
    assert partners.ok("GET", f"/api/v1/campaigns/{created['id']}") == created


def test_the_request_supplies_what_the_front_matter_lacks(partners: Api) -> None:
    partners.ok("POST", "/api/v1/lists", 201, json={"name": "news"})
    bare = "Storage is shared across the network from this month on.\n"
    body = {
        "content": bare,
        "template": "news-article",
        "lists": ["partners", "news", "partners"],
        "subject": "Storage sharing across the network",
    }
    created = partners.ok("POST", "/api/v1/campaigns", 201, json=body)
    assert created["template"] == "news-article"
    assert created["lists"] == ["news", "partners"]
    assert created["subject"] == "Storage sharing across the network"


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"content": LETTER, "template": "poster"}, "unknown_template", "no template 'poster'"),
        (
            {"content": LETTER.replace("**three", "{{ three")},
            "invalid_content",
            "api.md, line 6",
        ),
        ({"content": "no front matter at all"}, "invalid_content", "no template given"),
        ({"content": ""}, "invalid_request", "content: String should have at least 1"),
        ({"content": LETTER, "format": "docx"}, "invalid_request", "format"),
    ],
)
def test_bad_content_is_a_422_with_the_line(
    partners: Api, body: Any, code: str, fragment: str
) -> None:
    assert_error(partners("POST", "/api/v1/campaigns", json=body), 422, code, fragment)
    assert partners.ok("GET", "/api/v1/campaigns")["total"] == 0


def test_campaigns_come_newest_first_a_page_at_a_time(partners: Api) -> None:
    ids = [partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})["id"]]
    ids += [partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})["id"]]
    ids += [partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})["id"]]
    first = partners.ok("GET", "/api/v1/campaigns?limit=2")
    assert [item["id"] for item in first["items"]] == ids[:0:-1]
    assert first["total"] == 3 and first["next"] == "/api/v1/campaigns?limit=2&offset=2"
    second = partners.ok("GET", first["next"])
    assert [item["id"] for item in second["items"]] == [ids[0]] and second["next"] is None


def test_schedule_and_unschedule(partners: Api) -> None:
    created = partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})
    path = f"/api/v1/campaigns/{created['id']}/schedule"
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    local = at.astimezone(timezone(timedelta(hours=-3))).isoformat()
    scheduled = partners.ok("POST", path, json={"at": local})
    assert scheduled["status"] == "scheduled"
    assert datetime.fromisoformat(scheduled["scheduled_at"]) == at
    assert partners.ok("DELETE", path)["status"] == "draft"
    assert_error(partners("DELETE", path), 409, "conflict", "not scheduled")


@pytest.mark.parametrize(
    ("at", "status", "code", "fragment"),
    [
        ("2020-01-01T09:00:00+00:00", 409, "conflict", "that time has passed"),
        ("next tuesday", 422, "invalid_request", "at: Input should be a valid datetime"),
        ("0001-01-01T00:00:00+05:00", 422, "invalid_time", "out of range"),
    ],
)
def test_bad_schedules_are_refused(
    partners: Api, at: str, status: int, code: str, fragment: str
) -> None:
    created = partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})
    response = partners("POST", f"/api/v1/campaigns/{created['id']}/schedule", json={"at": at})
    assert_error(response, status, code, fragment)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/campaigns/404"),
        ("POST", "/api/v1/campaigns/404/schedule"),
        ("DELETE", "/api/v1/campaigns/404/schedule"),
    ],
)
def test_an_unknown_campaign_is_a_404(api: Api, method: str, path: str) -> None:
    body = {"at": "2099-01-01T09:00:00+00:00"} if method == "POST" else None
    assert_error(api(method, path, json=body), 404, "not_found", "no campaign 404")


def test_a_campaign_id_beyond_any_database_is_a_422(api: Api) -> None:
    response = api("GET", f"/api/v1/campaigns/{2**63}")
    assert_error(response, 422, "invalid_request", "campaign_id")


# --- rate limit -------------------------------------------------------------------------


def test_each_key_has_a_rate_limit_shared_by_every_process(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    environ = {
        "COOPMAIL_DATABASE_URL": database_url,
        "COOPMAIL_SECRET_KEY": SECRET_KEY,
        "COOPMAIL_API_RATE_LIMIT": "3",
    }
    settings = load_settings(environ=environ, cwd=tmp_path)
    other_engine = make_engine(database_url)  # a second web process on the same database
    apps = [
        create_app(
            context=WebContext(engine=e, settings=settings, composer=Composer(), clock=clock)
        )
        for e in (engine, other_engine)
    ]
    with session_scope(engine) as session:
        first = create_api_key(session, name="first").token
        second = create_api_key(session, name="second").token
    try:
        clients = [TestClient(app) for app in apps]

        def get(number: int, token: str) -> Any:
            return clients[number % 2].get(
                "/api/v1/lists", headers={"Authorization": f"Bearer {token}"}
            )

        assert [get(n, first).status_code for n in range(3)] == [200, 200, 200]
        refused = get(3, first)
        assert_error(refused, 429, "rate_limited", "more than 3 requests a minute")
        assert refused.headers["Retry-After"] == "61"
        assert get(4, second).status_code == 200  # another key has its own allowance
        clock.advance(seconds=61)
        assert get(5, first).status_code == 200
    finally:
        other_engine.dispose()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{{ "x" * 300000000 }}', "too much work for one mail"),
        (
            "{% for i in range(100000) %}{% for j in range(12000) %}{% endfor %}{% endfor %}",
            "range()",
        ),
        ("{{ '{0}'.format_map({}) }}", "line 6: no such item"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "line 6: a macro or loop calls itself"),
        ("{% include 'coopmail.toml' %}", "'coopmail.toml' does not exist"),
    ],
)
def test_a_hostile_or_broken_template_is_a_422_with_the_reason(
    partners: Api, content: str, words: str
) -> None:
    """Before: 30 s or gigabytes of work, or a 500."""
    source = "---\nsubject: Notes\ntemplate: news-article\nlists: [partners]\n---\n" + content
    response = partners("POST", "/api/v1/campaigns", json={"name": "notes", "content": source})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_content"
    assert words in response.json()["error"]["message"]


def test_a_yaml_trap_in_front_matter_says_what_to_type(partners: Api) -> None:
    source = "---\nsubject: Interview: our bakery\ntemplate: feature\nlists: [partners]\n---\nHi"
    response = partners("POST", "/api/v1/campaigns", json={"name": "interview", "content": source})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_content",
        "message": "interview.md, line 2: the subject has a colon followed by a space, which "
        'YAML reads as a new key; put the subject in quotes: subject: "Interview: our bakery"',
    }


def test_search_takes_percent_and_underscore_literally(partners: Api) -> None:
    """Before: `search=%` matched everyone, `_` any character."""
    for address, name in [
        ("ana@example.org", "Ana"),
        ("b_c@example.org", "B C"),
        ("dora@example.org", "100% Dora"),
        ("back@example.org", "Back\\slash"),
    ]:
        partners.ok(
            "POST",
            "/api/v1/subscribers",
            201,
            json={"email": address, "name": name, "lists": ["partners"], "status": "confirmed"},
        )

    def found(search: str) -> list[str]:
        page = partners.ok("GET", "/api/v1/subscribers", params={"search": search})
        return sorted(item["email"] for item in page["items"])

    assert found("%") == ["dora@example.org"]
    assert found("_") == ["b_c@example.org"]
    assert found("b_c") == ["b_c@example.org"]
    assert found("\\") == ["back@example.org"]
    assert found("100% d") == ["dora@example.org"]


@pytest.mark.parametrize("address", ["josé@coop.example.org", "用户@例子.广告"])
def test_an_address_that_needs_smtputf8_is_refused_at_the_door(
    partners: Api, session: Session, address: str
) -> None:
    """Before: stored, then failed at every send with a traceback."""
    response = partners(
        "POST", "/api/v1/subscribers", json={"email": address, "lists": ["partners"]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_address"
    assert "SMTPUTF8" in response.json()["error"]["message"]
    assert session.scalar(select(Subscriber)) is None


def test_a_campaign_is_marked_for_the_archive_and_back(partners: Api) -> None:
    created = partners.ok("POST", "/api/v1/campaigns", 201, json={"content": LETTER})
    assert created["archived"] is False
    path = f"/api/v1/campaigns/{created['id']}/archived"
    assert partners.ok("PUT", path, json={"archived": True})["archived"] is True
    assert partners.ok("GET", f"/api/v1/campaigns/{created['id']}")["archived"] is True
    assert partners.ok("PUT", path, json={"archived": False})["archived"] is False
    missing = partners("PUT", "/api/v1/campaigns/999/archived", json={"archived": True})
    assert missing.status_code == 404


def test_an_image_the_api_cannot_read_is_refused_with_its_reason(partners: Api) -> None:
    for image, words in (
        ("webinar.png", "files cannot be read here"),
        ("http://www.example.org/a.png", "http:// address is not encrypted"),
    ):
        body = {"content": LETTER + f"\n![The poster]({image})\n"}
        answer = partners("POST", "/api/v1/campaigns", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "invalid_content"
        assert words in answer.json()["error"]["message"]


def test_schedule_at_an_hour_in_each_partners_time_zone(api: Api) -> None:
    assert_error(
        api("POST", "/api/v1/lists", json={"name": "andes", "timezone": "Andes/Cusco"}),
        422,
        "invalid_request",
        "timezone: Value error, must be an IANA time zone name",
    )
    made = api.ok("POST", "/api/v1/lists", 201, json={"name": "andes", "timezone": "america/lima"})
    assert made["timezone"] == "America/Lima"
    assert api.ok("GET", "/api/v1/lists")["items"][0]["timezone"] == "America/Lima"
    subscribe(
        api.session,
        email="quechua@coop.example.org",
        mailing_list=get_list(api.session, name="andes"),
        source=ConsentSource.STAFF,
        wording="test",
        status=SubscriptionStatus.CONFIRMED,
    )
    api.session.commit()
    content = LETTER.replace("lists: [partners]", "lists: [andes]")
    created = api.ok("POST", "/api/v1/campaigns", 201, json={"content": content})
    path = f"/api/v1/campaigns/{created['id']}/schedule"
    year = datetime.now(UTC).year + 1
    scheduled = api.ok("POST", path, json={"at": f"{year}-01-15T09:00", "each_local_time": True})
    assert scheduled["status"] == "scheduled"
    assert scheduled["local_send_time"] == f"{year}-01-15T09:00"
    assert scheduled["scheduled_at"] == f"{year}-01-15T14:00:00Z"  # 09:00 in Lima, UTC-5
    passed = api("POST", path, json={"at": "2020-01-15T09:00", "each_local_time": True})
    assert_error(passed, 409, "zone_hour_passed", "has already passed in America/Lima")
    one_instant = {"at": f"{year}-01-15T09:00+01:00", "each_local_time": True}
    assert_error(api("POST", path, json=one_instant), 422, "invalid_time", "has an offset")
    assert api.ok("GET", f"/api/v1/campaigns/{created['id']}")["local_send_time"] == (
        f"{year}-01-15T09:00"  # the refused request left the schedule as it was
    )
    assert api.ok("DELETE", path)["local_send_time"] is None
