"""Engines and sessions. The boundary (an HTTP request, a Celery task) owns the transaction:
`session_scope` commits on success and rolls back on error; code below it only flushes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; the busy timeout turns short write
    # contention between processes into waiting instead of "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=8)
def get_engine(url: str, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800
    )


@lru_cache(maxsize=8)
def get_sessionmaker(url: str, pool_size: int = 10) -> sessionmaker[Session]:
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
