"""/api/v1/campaigns/{id}/versions: one translation at a time, as the studio's tabs do."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.drafts import get_campaign
from campaigns.outbox import cancel_campaign
from tests.coopmail.web.api.test_api import Api, api, assert_error, partners
from tests.coopmail.web.api.test_api_studio import draft

__all__ = ["api", "partners"]

FRENCH = "---\nsubject: Bonjour\n---\nCorps.\n"


def people(api: Api) -> None:
    for address, language in [("ada@coop.example.org", "en"), ("claire@coop.example.org", "fr")]:
        api.ok(
            "POST",
            "/api/v1/subscribers",
            201,
            json={
                "email": address,
                "lists": ["partners"],
                "language": language,
                "status": "confirmed",
            },
        )


def languages(api: Api, url: str) -> list[str]:
    return [version["language"] for version in api.ok("GET", f"{url}/versions")]


def test_a_translation_is_added_saved_listed_and_removed(partners: Api) -> None:
    people(partners)
    url = f"/api/v1/campaigns/{draft(partners)}"
    [default] = partners.ok("GET", f"{url}/versions")
    assert (default["language"], default["default"], default["recipients"]) == ("en", True, 2)
    assert default["older_than_default"] is False

    added = partners.ok("PUT", f"{url}/versions/fr", 201, json={"content": FRENCH})
    assert (added["language"], added["subject"], added["changed"]) == ("fr", "Bonjour", True)
    assert (added["default"], added["recipients"], added["source"]) == (False, 1, "api.md")
    same = partners.ok("PUT", f"{url}/versions/fr", json={"content": FRENCH})
    assert same["changed"] is False and same["updated_at"] == added["updated_at"]
    named = FRENCH.replace("---\nsubject", "---\nlanguage: fr\nsubject").replace("Corps", "Texte")
    assert partners.ok("PUT", f"{url}/versions/fr", json={"content": named})["changed"] is True
    spanish = partners.ok(
        "PUT", f"{url}/versions/ES", 201, json={"content": "---\nsubject: Hola\n---\nCuerpo.\n"}
    )
    assert spanish["language"] == "es"
    assert languages(partners, url) == ["en", "es", "fr"]
    assert [v["subject"] for v in partners.ok("GET", url)["versions"]] == ["Hi", "Hola", "Bonjour"]

    partners.ok("PUT", f"{url}/content", json={"content": "---\nsubject: Hi\n---\nNew body.\n"})
    older = {v["language"]: v["older_than_default"] for v in partners.ok("GET", f"{url}/versions")}
    assert older == {"en": False, "es": True, "fr": True}

    assert partners("DELETE", f"{url}/versions/fr").status_code == 204
    assert languages(partners, url) == ["en", "es"]
    assert partners.ok("GET", f"{url}/versions")[0]["recipients"] == 2  # claire gets English


def test_each_mistake_has_its_status_and_code_and_changes_nothing(partners: Api) -> None:
    number = draft(partners)
    url = f"/api/v1/campaigns/{number}"
    partners.ok("PUT", f"{url}/versions/fr", 201, json={"content": FRENCH})
    for method in ("GET", "PUT", "DELETE"):
        path = "/api/v1/campaigns/999/versions" + ("" if method == "GET" else "/fr")
        response = partners(method, path, json={"content": FRENCH})
        assert_error(response, 404, "not_found", "there is no campaign 999")
    assert_error(
        partners("DELETE", f"{url}/versions/de"),
        404,
        "not_found",
        f"campaign {number} has no version in de; its versions: en, fr",
    )
    for method in ("PUT", "DELETE"):
        assert_error(
            partners(method, f"{url}/versions/en", json={"content": FRENCH}),
            409,
            "default_version",
            f"en is the default version of campaign {number}",
        )
    for bad in ("x!", "f", "fr-" + "a" * 40):
        response = partners("PUT", f"{url}/versions/{bad}", json={"content": FRENCH})
        assert_error(response, 422, "invalid_request", "language")
    other = FRENCH.replace("---\nsubject", "---\nlanguage: es\nsubject")
    assert_error(
        partners("PUT", f"{url}/versions/de", json={"content": other}),
        422,
        "invalid_content",
        "line 2: the front matter says `language: es` but this is the de version",
    )
    broken = "---\nsubject: Hallo\n---\n{% if %}\n"
    assert_error(
        partners("PUT", f"{url}/versions/de", json={"content": broken}),
        422,
        "invalid_content",
        "line 4",
    )
    assert_error(
        partners("PUT", f"{url}/versions/fr", json={"content": broken}), 422, "invalid_content"
    )
    assert languages(partners, url) == ["en", "fr"]  # nothing half-added
    assert partners.ok("GET", f"{url}/versions")[1]["subject"] == "Bonjour"

    partners.ok("POST", f"{url}/schedule", json={"at": "2099-01-01T09:00:00+00:00"})
    partners.ok("PUT", f"{url}/versions/fr", json={"content": FRENCH.replace("Corps", "Autre")})
    assert_error(
        partners("DELETE", f"{url}/versions/fr"),
        409,
        "not_a_draft",
        "is scheduled; only a draft can be deleted",
    )
    campaign = get_campaign(partners.session, campaign_id=number)
    cancel_campaign(partners.session, campaign=campaign, now=datetime.now(UTC))
    partners.session.commit()
    for method, path in [("PUT", "fr"), ("PUT", "de"), ("DELETE", "fr")]:
        response = partners(method, f"{url}/versions/{path}", json={"content": FRENCH})
        assert_error(response, 409, "not_a_draft", "is cancelled")
    assert languages(partners, url) == ["en", "fr"]


def test_a_translation_with_an_http_image_is_refused_and_adds_nothing(partners: Api) -> None:
    url = f"/api/v1/campaigns/{draft(partners)}"
    broken = FRENCH.replace("Corps.", "Corps.\n\n![Une salle](http://www.example.org/salle.png)")
    refused = partners("PUT", f"{url}/versions/fr", json={"content": broken})
    assert_error(refused, 422, "invalid_content", "http://")
    assert languages(partners, url) == ["en"]


def test_a_translations_revisions_are_listed_compared_and_restored(partners: Api) -> None:
    number = draft(partners)
    url = f"/api/v1/campaigns/{number}"
    added = partners.ok("PUT", f"{url}/versions/fr", 201, json={"content": FRENCH})
    assert added["revision"] == 3  # 2 is the copy of the default it started as
    same = partners.ok("PUT", f"{url}/versions/fr", json={"content": FRENCH})
    assert same["revision"] is None
    french = partners.ok("GET", f"{url}/revisions", params={"language": "FR"})
    assert [(r["number"], r["language"], r["restored_from"]) for r in french] == [
        (2, "fr", None),
        (3, "fr", None),
    ]
    assert french[1]["author"].startswith("API key ")
    default = partners.ok("GET", f"{url}/revisions")
    assert [(r["number"], r["language"]) for r in default] == [(1, None)]
    assert partners.ok("GET", f"{url}/revisions", params={"language": "en"}) == default
    one = partners.ok("GET", f"{url}/revisions/3")
    assert one["language"] == "fr" and "subject: Bonjour" in one["source"]
    diff = partners.ok("GET", f"{url}/diff", params={"old": 2, "new": 3})["diff"]
    assert "+subject: Bonjour" in diff
    assert_error(
        partners("GET", f"{url}/diff", params={"old": 1, "new": 3}),
        409,
        "other_version",
        f"revision 1 of campaign {number} is of the default version and revision 3 of the fr",
    )
    assert_error(
        partners("GET", f"{url}/revisions", params={"language": "de"}),
        404,
        "not_found",
        f"campaign {number} has no version in de",
    )
    assert partners("GET", f"{url}/revisions", params={"language": "x!"}).status_code == 422

    restored = partners.ok("POST", f"{url}/revisions/2/restore")
    assert restored["subject"] == "Hi"  # the default version is as it was
    versions = {v["language"]: v for v in partners.ok("GET", f"{url}/versions")}
    assert versions["fr"]["subject"] == "Hi"  # the copy it started as
    newest = partners.ok("GET", f"{url}/revisions", params={"language": "fr"})[-1]
    assert (newest["number"], newest["restored_from"]) == (4, 2)
    assert [r["number"] for r in partners.ok("GET", f"{url}/revisions")] == [1]

    assert partners("DELETE", f"{url}/versions/fr").status_code == 204
    assert_error(
        partners("POST", f"{url}/revisions/3/restore"),
        404,
        "not_found",
        f"campaign {number} has no version in fr",
    )
