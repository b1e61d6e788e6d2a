"""Engines and sessions. The boundary (an HTTP request, a Celery task) owns the transaction:
`session_scope` commits on success and rolls back on error; code below it only flushes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

# a pooled connection idle longer than this is pinged before use (see `_ping_if_idle`)
PING_AFTER_IDLE_S = 5.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; the busy timeout turns short write
    # contention between processes into waiting instead of "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _note_checkin(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling for connections that sat idle: a connection returned a
    moment ago is used as is, one idle for PING_AFTER_IDLE_S is pinged first, and a dead one is
    replaced (the pool retries the checkout) instead of failing the request. `pool_pre_ping`
    would ping before every checkout: a second round trip for every one-statement poll."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return
    try:
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as error:
        raise exc.DisconnectionError() from error


def get_engine(url: str, pool_size: int = 10) -> Engine:
    """The process's engine (and pool) of a database; `get_engine(url)` and
    `get_engine(url, 10)` are the same one."""
    return _engine(url, pool_size)


@lru_cache(maxsize=8)
def _engine(url: str, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # a pool as large as the PostgreSQL one: connections beyond the default 5 would be
        # closed on return and opened again (PRAGMAs included) under any concurrency
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=2 * pool_size,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def get_async_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    """PostgreSQL on psycopg's asyncio driver, for the API's hot reads (`server.reads`): never
    for writes. The same pool settings and idle pings as the sync engine."""
    return _async_engine(url, pool_size)


@lru_cache(maxsize=8)
def _async_engine(url: str, pool_size: int) -> AsyncEngine:
    # reads only, one statement each: autocommit spares every read a BEGIN and a ROLLBACK,
    # two of its three round trips
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
    )
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


def get_sessionmaker(url: str, pool_size: int = 10) -> sessionmaker[Session]:
    return _sessionmaker(url, pool_size)


@lru_cache(maxsize=8)
def _sessionmaker(url: str, pool_size: int) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url, pool_size), expire_on_commit=False)


@contextmanager
def session_scope(url: str, pool_size: int = 10) -> Iterator[Session]:
    session = get_sessionmaker(url, pool_size)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
