"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
walk back down cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import shared.db.models  # noqa: F401  (registers every table)
from shared.db.base import Base
from shared.db.migrate import alembic_config, current_heads
from shared.db.session import get_engine


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "several heads: chain the new migration after the last one"
    assert len(script.get_bases()) == 1


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    with get_engine(database_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert current_heads(database_url) == set(script.get_heads())


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    with get_engine(database_url).connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    with get_engine(database_url).connect() as conn:
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
