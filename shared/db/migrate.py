"""Run the Alembic migrations programmatically (`ocrp db upgrade`, test fixtures, `ocrp run`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    from shared.db.session import get_engine

    with get_engine(database_url).connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
