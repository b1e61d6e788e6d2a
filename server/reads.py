"""Database reads of the API's hot paths (polls, lists, event streams), without a session.

One SQL statement per call, Core rather than the ORM (rows, no identity map), on a connection
held only for that statement. Where the statement runs depends on the database:

- SQLite (the embedded default) runs it on the event loop, on a connection the loop's thread
  keeps: a primary-key or index read of a local file in WAL mode never waits for a writer and
  takes tens of microseconds, less than the hop to a thread and back (or a pool checkout)
  would. pysqlite opens no transaction for a SELECT, so the kept connection pins no snapshot;

- PostgreSQL runs it on psycopg's asyncio driver (an async engine with its own pool, sharing
  the URL and pool settings of the sync one): the round trip is awaited, with no thread hop.

Errors are the driver's own (`OperationalError` when the database is away), which the app's
error handlers answer with 503 `database_unavailable`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Executable, Row
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.config import Settings
from shared.db.session import get_async_engine, get_engine


class Reads(Protocol):
    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None: ...

    async def all(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]: ...


class InlineReads:
    """SQLite: on the event loop's thread, on a connection that thread keeps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kept = threading.local()  # the inline connection of each event loop's thread

    def _kept_connection(self) -> Connection:
        conn: Connection | None = getattr(self._kept, "conn", None)
        if conn is None or conn.invalidated or conn.closed:
            conn = self._kept.conn = self.engine.connect()
        return conn

    def _inline(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        conn = self._kept_connection()
        try:
            return conn.execute(statement, params).all()
        except BaseException:
            self._kept.conn = None
            conn.close()
            raise
        finally:
            if not conn.closed:
                conn.rollback()  # ends SQLAlchemy's (empty) transaction

    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        rows = self._inline(statement, params)
        return rows[0] if rows else None

    async def all(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        return self._inline(statement, params)


class AsyncReads:
    """PostgreSQL: awaited on the asyncio driver, a pooled connection per statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def first(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement, params)).first()

    async def all(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement, params)).all()


def make_reads(settings: Settings) -> Reads:
    """The process's reads of a database (one per database, like its engine)."""
    return _reads(settings.database_url, settings.database_pool_size)


@lru_cache(maxsize=8)
def _reads(url: str, pool_size: int) -> Reads:
    if url.startswith("sqlite"):
        return InlineReads(get_engine(url, pool_size))
    return AsyncReads(get_async_engine(url, pool_size))
