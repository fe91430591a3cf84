"""API keys: `coopmail apikeys` and the checks behind bearer authentication."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coopmail.apikeys import (
    ApiKey,
    ApiKeyExists,
    InvalidApiKey,
    authenticate,
    create_api_key,
    record_use,
    revoke_api_key,
    use_due,
)
from tests.conftest import Cli


def test_create_prints_the_key_once_and_stores_only_its_hash(run: Cli, session: Session) -> None:
    result = run.ok("apikeys", "create", "crm sync")
    token = result.stdout.strip()
    assert token.startswith("cm_") and len(token) == 3 + 8 + 1 + 43
    assert "only time the key is shown" in result.stderr
    key = session.scalars(select(ApiKey)).one()
    _, prefix, secret = token.split("_", 2)
    assert key.name == "crm sync" and key.prefix == prefix
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.secret_hash

    listed = run.ok("apikeys", "list")
    assert "crm sync" in listed.stdout and prefix in listed.stdout
    assert secret not in listed.stdout + listed.stderr
    assert "never" in listed.stdout


def test_create_and_list_as_json(run: Cli) -> None:
    created = run.ok("apikeys", "create", "website", "--json").json()
    assert set(created) == {
        "id",
        "name",
        "prefix",
        "key",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    assert created["key"].startswith(f"cm_{created['prefix']}_")
    listed = run.ok("apikeys", "list", "--json").json()
    assert listed == [{k: v for k, v in created.items() if k != "key"}]
    assert created["key"] not in run.ok("apikeys", "list", "--json").stdout


def test_revoke_by_name_or_id(run: Cli) -> None:
    first = run.ok("apikeys", "create", "first", "--json").json()
    run.ok("apikeys", "create", "second")
    assert "is revoked" in run.ok("apikeys", "revoke", "second").stderr
    run.ok("apikeys", "revoke", str(first["id"]))
    listed = run.ok("apikeys", "list", "--json").json()
    assert all(row["revoked_at"] is not None for row in listed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("apikeys", "revoke", "nobody"), "there is no API key 'nobody'"),
        (("apikeys", "revoke", "\u00b2"), "there is no API key '\u00b2'"),
        (("apikeys", "revoke", "9" * 30), "there is no API key '" + "9" * 30 + "'"),
        (("apikeys", "create", "taken"), "an API key named 'taken' already exists"),
        (("apikeys", "create", "bad\nname"), "must be 1 to 100 letters"),
        (("apikeys", "create", "1234"), "not be a number"),
    ],
)
def test_mistakes_are_one_line_errors(run: Cli, args: tuple[str, ...], message: str) -> None:
    run.ok("apikeys", "create", "taken")
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_no_keys_yet_says_how_to_make_one(run: Cli) -> None:
    assert "coopmail apikeys create NAME" in run.ok("apikeys", "list").stderr


def test_authenticate_accepts_only_the_live_key(session: Session) -> None:
    token = create_api_key(session, name="client").token
    assert authenticate(session, token=token).name == "client"
    prefix = token.split("_")[1]
    for wrong in ("", "cm_", token + "x", token[:-1] + "?", f"cm_{prefix}_{'A' * 43}", "x" * 60):
        with pytest.raises(InvalidApiKey):
            authenticate(session, token=wrong)
    revoke_api_key(session, reference="client", now=datetime.now(UTC))
    with pytest.raises(InvalidApiKey):
        authenticate(session, token=token)


def test_a_name_is_unique_even_after_revocation(session: Session) -> None:
    create_api_key(session, name="client")
    revoke_api_key(session, reference="client", now=datetime.now(UTC))
    with pytest.raises(ApiKeyExists):
        create_api_key(session, name="client")


def test_use_is_recorded_at_most_once_a_minute(session: Session) -> None:
    key = create_api_key(session, name="client").key
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert use_due(key, now=now)
    record_use(session, key_id=key.id, now=now)
    session.refresh(key)
    assert key.last_used_at == now
    assert not use_due(key, now=now + timedelta(seconds=30))
    record_use(session, key_id=key.id, now=now + timedelta(seconds=30))
    session.refresh(key)
    assert key.last_used_at == now
    later = now + timedelta(minutes=1)
    assert use_due(key, now=later)
    record_use(session, key_id=key.id, now=later)
    session.refresh(key)
    assert key.last_used_at == later
