"""Operator routes: the dead-letter list (tasks that failed for good after their attempts ran
out). `POST /v1/tasks/{id}/retry` puts one back in the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.deps import AdminDep, SessionDep, SettingsDep
from server.errors import responses
from server.tasks import service
from server.tasks.schemas import TaskList, TaskResource
from shared.clock import utcnow

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get(
    "/dead-letters",
    response_model=TaskList,
    responses=responses(400, 422),
    summary="Dead-lettered tasks of every owner, newest first",
)
def dead_letters(
    session: SessionDep,
    settings: SettingsDep,
    caller: AdminDep,
    owner: Annotated[str | None, Query(max_length=100, description="Only this owner's tasks.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> TaskList:
    tasks, next_cursor = service.list_tasks(session, owner, None, limit, cursor, dead_letters_only=True)
    now = utcnow()
    return TaskList(
        data=[TaskResource.of(t, settings.public_url, now) for t in tasks], next_cursor=next_cursor
    )
