"""Request dependencies: settings, the database session, storage, the queue and the caller.

The endpoint is the boundary: it commits, then sends queued work (never before the commit, so a
worker never wakes up for a row it cannot see).

Callers (`server.auth`): `CallerDep` authenticates the API key and asks for the `read` scope on
GET/HEAD and `submit` on every other method, so a route gets the right check by taking it;
`AdminDep` asks for `admin`; `SubmitOrAdminDep` for an owner's own writes that operators may
also do (retry). Every row a caller creates belongs to `caller.owner`, and every read filters by
it: another owner's task is a 404, never a 403, so ids cannot be probed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.auth.authenticate import (
    get_caller,
    metrics_access,
    require_admin,
    require_admin_page,
    require_submit_or_admin,
)
from server.auth.caller import Caller
from server.reads import Reads
from shared.config import Settings
from shared.db.session import get_sessionmaker
from shared.errors import Unavailable
from shared.storage import Storage


# The getters of app state are `async def`: FastAPI runs a sync dependency in the thread pool,
# a hop that would cost far more than reading an attribute.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_celery(request: Request) -> Celery:
    celery: Celery = request.app.state.celery
    return celery


def reads_of(request: Request) -> Reads:
    """The hot read paths' single statements (`server.reads`). Read from the request rather
    than taken as a dependency: FastAPI walks every route's dependency tree on every request,
    and the polled routes keep theirs to the caller alone."""
    reads: Reads = request.app.state.reads
    return reads


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StorageDep = Annotated[Storage, Depends(get_storage)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
AdminDep = Annotated[Caller, Depends(require_admin)]
SubmitOrAdminDep = Annotated[Caller, Depends(require_submit_or_admin)]
# pages a browser opens (/ops): without a key, the browser is asked for one (HTTP Basic)
DashboardAdminDep = Annotated[Caller, Depends(require_admin_page)]
# for `/metrics`: `dependencies=[MetricsAccess]` on the route
MetricsAccess = Depends(metrics_access)

__all__ = [
    "AdminDep",
    "Caller",
    "CallerDep",
    "CeleryDep",
    "DashboardAdminDep",
    "MetricsAccess",
    "SessionDep",
    "SettingsDep",
    "StorageDep",
    "SubmitOrAdminDep",
]
