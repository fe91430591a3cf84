"""Property-based: requests generated from /api/openapi.json never get a 5xx, and every
response matches the document (status, content type, headers, body schema)."""

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
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.drafts import create_campaign
from coopmail.db import session_scope
from coopmail.web.api import OPENAPI_URL
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.test_api import LETTER, make_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _api(engine: Engine, database_url: str, tmp_path: Path) -> tuple[Any, str]:
    app, token = make_api(engine=engine, database_url=database_url, workdir=tmp_path)
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
    assert len(operations) == 14
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
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        try:
            conforms()
        except BaseException as error:
            error.add_note(f"operation: {operation.label}")
            raise
