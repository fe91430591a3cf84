"""Alembic environment: runs against the engine coopmail hands over in its config.

On SQLite a migration may rebuild a table (create a copy, drop the original, rename), and
with foreign keys enforced, dropping a table deletes every row that refers to it. So, as
SQLite's documentation prescribes for schema changes, foreign keys are off while migrating
and checked before the commit: a migration that broke a reference fails and changes nothing.
"""

from alembic import context

from coopmail.db import schema_metadata
from coopmail.errors import DatabaseError

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection
    if sqlite:  # outside any transaction, where SQLite lets the pragma change
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=schema_metadata(),
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseError(
                        f"the migration would break {len(broken)} references "
                        f"(first: {tuple(broken[0])}); nothing was changed"
                    )
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()  # the pragma only takes outside a transaction
            raw.execute("PRAGMA foreign_keys=ON")
