"""Migrations create exactly the models' schema on both backends; a stale schema is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.models import Campaign, CampaignRevision, SourceFormat
from coopmail.db import (
    alembic_config,
    make_engine,
    require_current_schema,
    schema_metadata,
    upgrade,
)
from coopmail.errors import DatabaseError, SchemaBehind


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema_metadata()) == []
    require_current_schema(engine)


def test_an_empty_database_is_refused_with_the_upgrade_command(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaBehind, match="coopmail db upgrade"):
        require_current_schema(engine)
    upgrade(engine)
    require_current_schema(engine)
    engine.dispose()


def test_a_schema_behind_says_how_to_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaBehind, match=r"revision 0000 .* run `coopmail db upgrade`"):
        require_current_schema(engine)
    engine.dispose()


def test_the_sqlite_rebuild_for_unreused_ids_keeps_every_row(tmp_path: Path) -> None:
    """0009 rebuilds tables that others refer to: with foreign keys on, dropping the old
    table would have deleted every subscription and delivery through the cascades."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, revision="0008")
    now = "'2026-11-01 09:00:00.000000'"
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(f"INSERT INTO lists VALUES (1, 'partners', 'Partners', '', 'double', 1, {now})")
        for person in (1, 2, 3):
            run(
                "INSERT INTO subscribers (id, email, name, attributes, created_at, updated_at) "
                f"VALUES ({person}, 'p{person}@coop.example.org', '', '{{}}', {now}, {now})"
            )
            run(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, "
                f"updated_at) VALUES ({person}, 1, 'confirmed', {now}, {now})"
            )
    upgrade(engine)
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        assert run("SELECT count(*) FROM subscriptions").scalar() == 3
        assert run("PRAGMA foreign_keys").scalar() == 1  # back on for this pooled connection
        run("DELETE FROM subscribers WHERE id = 3")
        assert run("SELECT count(*) FROM subscriptions").scalar() == 2  # cascades work again
        run(
            "INSERT INTO subscribers (email, name, attributes, created_at, updated_at) "
            f"VALUES ('new@coop.example.org', '', '{{}}', {now}, {now})"
        )
        assert run("SELECT max(id) FROM subscribers").scalar() == 4  # 3 is never reused
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_unreachable_databases_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="folder for the SQLite database"):
        make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    engine = make_engine("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseError, match="cannot connect") as caught:
        require_current_schema(engine)
    assert "secretpw" not in str(caught.value)


def test_revisions_of_translations_come_with_0017_and_go_with_its_downgrade(
    engine: Engine,
) -> None:
    """0017 marks the existing revisions as the default version's (NULL language); going
    back drops the translations' rather than let them pass for the default's."""
    with Session(engine) as session:
        campaign = Campaign(
            subject="Hi",
            template="newsletter",
            source_format=SourceFormat.MARKDOWN,
            source_name="a.md",
            body="Body",
            from_address="news@coop.example.org",
            language="en",
        )
        session.add(campaign)
        session.flush()
        for number, language in ((1, None), (2, "fr")):
            session.add(
                CampaignRevision(
                    campaign_id=campaign.id,
                    number=number,
                    author="",
                    source_format=SourceFormat.MARKDOWN,
                    source="Body",
                    language=language,
                )
            )
        session.commit()
    try:
        command.downgrade(alembic_config(engine), "0016")
        with engine.begin() as connection:
            kept = connection.exec_driver_sql("SELECT number FROM campaign_revisions")
            assert [row[0] for row in kept] == [1]
        upgrade(engine)
        with engine.begin() as connection:
            rows = connection.exec_driver_sql("SELECT number, language FROM campaign_revisions")
            assert [tuple(row) for row in rows] == [(1, None)]
    finally:
        upgrade(engine)
