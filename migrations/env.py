"""Alembic environment: the URL comes from OCR_DATABASE_URL (or the Alembic config when a caller
set one), the metadata from shared.db.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import shared.db.models  # noqa: F401  (registers every table)
from shared.config import get_settings
from shared.db.base import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # migrations must not import application types: UTCDateTime is a plain timestamptz in SQL
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection: object) -> None:
    # batch mode lets ALTER TABLE migrations run on SQLite too
    context.configure(
        connection=connection, target_metadata=target_metadata, render_as_batch=True, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
