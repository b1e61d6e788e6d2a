"""Request dependencies: settings, the database session, storage, the queue and the caller.

The endpoint is the boundary: it commits, then sends queued work (never before the commit, so a
worker never wakes up for a row it cannot see)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.session import get_sessionmaker
from shared.errors import Unavailable
from shared.storage import Storage


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_celery(request: Request) -> Celery:
    celery: Celery = request.app.state.celery
    return celery


def get_session(request: Request) -> Iterator[Session]:
    settings: Settings = request.app.state.settings
    session = get_sessionmaker(settings.database_url, settings.database_pool_size)()
    try:
        yield session
    except OperationalError as exc:
        session.rollback()
        raise Unavailable(
            "the database is unreachable; retry shortly", "database_unavailable", retry_after=5
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass(frozen=True)
class Caller:
    """Who is calling. Until API keys exist every caller is the `default` owner."""

    owner: str
    scopes: frozenset[str] = frozenset({"submit", "read", "admin"})


def get_caller() -> Caller:
    return Caller(owner="default")


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StorageDep = Annotated[Storage, Depends(get_storage)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
