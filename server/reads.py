"""Database reads of the API's hot paths (polls, lists, event streams), without a session.

One SQL statement per call, Core rather than the ORM (rows, no identity map), on a connection
held only for that statement. Where the statement runs depends on the database:

- SQLite (the embedded default) runs it on the event loop: a primary-key or index read of a
  local file in WAL mode never waits for a writer and takes tens of microseconds, less than
  the hop to a thread and back would;
- PostgreSQL runs it in the thread pool: a network round trip must not stall the event loop.

Errors are the driver's own (`OperationalError` when the database is away), which the app's
error handlers answer with 503 `database_unavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Executable, Row
from starlette.concurrency import run_in_threadpool

from shared.config import Settings
from shared.db.session import get_engine


class Reads:
    def __init__(self, engine: Engine, inline: bool) -> None:
        self.engine = engine
        self.inline = inline

    def _first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(statement, params).first()

    def _all(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        with self.engine.connect() as conn:
            return conn.execute(statement, params).all()

    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        if self.inline:
            return self._first(statement, params)
        return await run_in_threadpool(self._first, statement, params)

    async def all(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        if self.inline:
            return self._all(statement, params)
        return await run_in_threadpool(self._all, statement, params)


def make_reads(settings: Settings) -> Reads:
    return Reads(get_engine(settings.database_url, settings.database_pool_size), inline=settings.is_sqlite)
