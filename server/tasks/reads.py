"""The task reads that clients poll: one task, the owner's list, a task's pages. One statement
each, with the owner in the statement itself: another owner's task is simply not found (404, as
a missing one), and the rows come back without an ORM session (`server.reads`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, and_, bindparam, case, func, select

from server.reads import Reads
from shared.db.models import Page, Task, TaskStatus
from shared.errors import InvalidRequest, NotFound
from shared.ids import is_valid_id

TASKS = Task.__table__
PAGES = Page.__table__
# the row read as a Task (`as_task`) needs the mapped attributes' names: the `metadata` column
# is the `client_metadata` attribute (SQLAlchemy keeps `metadata` for itself)
_TASK_COLUMNS = [c.label("client_metadata") if c.name == "metadata" else c for c in TASKS.c]

# a queued task's place in its queue, in the poll's one statement: the tasks of its queue created
# before it that are still queued (NULL for a task that is not queued)
_AHEAD = TASKS.alias("ahead")
_QUEUE_POSITION = case(
    (
        TASKS.c.status == TaskStatus.queued.value,
        select(func.count())
        .select_from(_AHEAD)
        .where(
            _AHEAD.c.status == TaskStatus.queued.value,
            _AHEAD.c.queue == TASKS.c.queue,
            _AHEAD.c.created_at < TASKS.c.created_at,
        )
        .scalar_subquery(),
    ),
    else_=None,
).label("queue_position")

_ONE_TASK = select(*_TASK_COLUMNS, _QUEUE_POSITION).where(
    TASKS.c.id == bindparam("id"), TASKS.c.owner == bindparam("owner")
)
# the task's id whatever its pages: no row means no such task, a row of NULL pages means none yet
_PAGES_OF_TASK = (
    select(TASKS.c.id.label("owned_task_id"), *PAGES.c)
    .select_from(
        TASKS.outerjoin(PAGES, and_(PAGES.c.task_id == TASKS.c.id, PAGES.c.number > bindparam("after")))
    )
    .where(TASKS.c.id == bindparam("id"), TASKS.c.owner == bindparam("owner"))
    .order_by(PAGES.c.number)
    .limit(bindparam("limit"))
)


def as_task(row: Row[Any]) -> Task:
    """A tasks row read as a Task: a Core row carries the columns under the mapped attributes'
    names, which is all the response schemas read."""
    return cast(Task, row)


def _missing(task_id: str) -> NotFound:
    return NotFound(f"no task {task_id!r}", "task_not_found")


async def find_task(reads: Reads, owner: str, task_id: str) -> Task:
    return (await find_task_and_position(reads, owner, task_id))[0]


async def find_task_and_position(reads: Reads, owner: str, task_id: str) -> tuple[Task, int | None]:
    """The task, and its place in its queue when it is queued (None otherwise)."""
    if not is_valid_id(task_id, "tsk"):
        raise _missing(task_id)
    row = await reads.first(_ONE_TASK, {"id": task_id, "owner": owner})
    if row is None:
        raise _missing(task_id)
    position = row._mapping["queue_position"]
    return as_task(row), None if position is None else int(position)


async def list_tasks(
    reads: Reads, owner: str, status: TaskStatus | None, limit: int, cursor: str | None
) -> tuple[list[Task], str | None]:
    """The owner's tasks, newest first, `limit` at a time after `cursor` (a task id)."""
    query = select(*_TASK_COLUMNS).where(TASKS.c.owner == bindparam("owner"))
    params: dict[str, Any] = {"owner": owner, "limit": limit + 1}
    if status is not None:
        query = query.where(TASKS.c.status == bindparam("status"))
        params["status"] = str(status)
    if cursor:
        if not is_valid_id(cursor, "tsk"):
            raise InvalidRequest("invalid cursor", "invalid_cursor")
        query = query.where(TASKS.c.id < bindparam("cursor"))
        params["cursor"] = cursor
    rows = await reads.all(query.order_by(TASKS.c.id.desc()).limit(bindparam("limit")), params)
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return [as_task(row) for row in rows[:limit]], next_cursor


async def task_pages(
    reads: Reads, owner: str, task_id: str, after: int, limit: int
) -> tuple[Sequence[Row[Any]], int | None]:
    """The task's pages numbered after `after`, `limit` at a time, with the cursor of the next."""
    if not is_valid_id(task_id, "tsk"):
        raise _missing(task_id)
    params = {"id": task_id, "owner": owner, "after": after, "limit": limit + 1}
    rows = await reads.all(_PAGES_OF_TASK, params)
    if not rows:
        raise _missing(task_id)
    pages = [row for row in rows if row.number is not None]
    next_after = pages[limit - 1].number if len(pages) > limit else None
    return pages[:limit], next_after
