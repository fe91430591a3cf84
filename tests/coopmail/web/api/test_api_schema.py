"""Property-based: requests generated from /api/openapi.json never get a 5xx, every
response matches the document (status, content type, headers, body schema), and every
request the document calls valid is accepted (the document is as strict as the API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.drafts import create_campaign
from coopmail.db import session_scope
from coopmail.web.api.routes import OPENAPI_URL
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.api.test_api import LETTER, make_api

# A campaign's content has rules of its own (front matter naming a template, a subject,
# lists; a template that renders) that no JSON schema can state: the composer answers them
# with these codes. Every other schema-valid request must be accepted.
CONTENT_CODES = {"invalid_content", "unknown_template"}


# Operations that render content: its rules (a template's own errors) are not a schema's.
CONTENT_OPERATIONS = {
    "POST /api/v1/campaigns",
    "PUT /api/v1/campaigns/{campaign_id}/content",
    "PUT /api/v1/campaigns/{campaign_id}/versions/{language}",
    "PATCH /api/v1/campaigns/{campaign_id}",
    "POST /api/v1/campaigns/{campaign_id}/revisions/{number}/restore",
    "POST /api/v1/preview",
}


@schemathesis.check
def schema_valid_requests_are_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """ST202 (positive data acceptance), but for a campaign content's own rules."""
    if (
        case.operation.label in CONTENT_OPERATIONS
        and response.status_code == 422
        and response.json()["error"]["code"] in CONTENT_CODES
    ):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
POSITIVE_CHECKS = [*CHECKS, schema_valid_requests_are_accepted]


@pytest.fixture
def _api(engine: Engine, database_url: str, tmp_path: Path) -> tuple[Any, str]:
    app, token = make_api(  # a limit out of reach: the generated requests come fast
        engine=engine,
        database_url=database_url,
        workdir=tmp_path,
        COOPMAIL_API_RATE_LIMIT="1000000",
    )
    with session_scope(engine) as session:  # something for the generated ids to find
        partners = create_list(session, name="partners")
        subscribe(
            session,
            email="ada@example.org",
            mailing_list=partners,
            source=ConsentSource.STAFF,
            wording="seed",
            status=SubscriptionStatus.CONFIRMED,
        )
    (tmp_path / "letter.md").write_text(LETTER, encoding="utf-8")
    with session_scope(engine) as session:
        create_campaign(
            session,
            composer=Composer(),
            content=read_content(tmp_path / "letter.md"),
            default_sender="Unit <unit@example.org>",
        )
    return app, token


# Per operation and database: enough to find a crash, small enough for CI's two cores.
EXAMPLES = {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 40}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_the_api_keeps_to_its_openapi_document(_api: tuple[Any, str], mode: GenerationMode) -> None:
    app, token = _api
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = sum(len(item) for item in schema.raw_schema["paths"].values())
    assert len(operations) == documented > 0  # every documented operation is exercised
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            checks = POSITIVE_CHECKS if mode is GenerationMode.POSITIVE else CHECKS
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

        try:
            conforms()
        except BaseException as error:
            error.add_note(f"operation: {operation.label}")
            raise
