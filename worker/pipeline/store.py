"""The worker's reads and writes of task rows. Each method is one short transaction, so that a
crash between pages loses at most the page in flight, and counters are recomputed from the page
rows, so running a page twice never counts it twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from shared.clock import utcnow
from shared.db.models import Page, PageStatus, Task, TaskStatus
from shared.db.session import session_scope
from shared.layout import LayoutPage
from shared.tasks import lifecycle


@dataclass(frozen=True)
class TaskSnapshot:
    id: str
    owner: str
    source_kind: str
    source_uri: str | None
    filename: str | None
    input_key: str | None
    content_type: str | None
    sha256: str | None
    page_count: int | None
    options: dict[str, Any]
    attempts: int
    queue: str

    @classmethod
    def of(cls, task: Task) -> TaskSnapshot:
        return cls(
            id=task.id,
            owner=task.owner,
            source_kind=task.source_kind,
            source_uri=task.source_uri,
            filename=task.filename,
            input_key=task.input_key,
            content_type=task.content_type,
            sha256=task.sha256,
            page_count=task.page_count,
            options=dict(task.options or {}),
            attempts=task.attempts,
            queue=task.queue,
        )


class TaskStore:
    def __init__(self, database_url: str, pool_size: int = 10) -> None:
        self.url = database_url
        self.pool_size = pool_size

    def _session(self) -> Any:
        return session_scope(self.url, self.pool_size)

    def claim(self, task_id: str, worker: str, stale_before: datetime) -> TaskSnapshot | None:
        """Take a queued task, or a running one whose worker stopped heartbeating. None when
        the task is gone, finished, or alive elsewhere: the caller then exits quietly."""
        with self._session() as session:
            try:
                return TaskSnapshot.of(lifecycle.claim(session, task_id, worker, stale_before))
            except lifecycle.TransitionRefused:
                return None

    def record_input(
        self, task_id: str, *, content_type: str, size: int, sha256: str, input_key: str, page_count: int
    ) -> None:
        with self._session() as session:
            session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    content_type=content_type,
                    size_bytes=size,
                    sha256=sha256,
                    input_key=input_key,
                    page_count=page_count,
                )
            )

    def init_pages(self, task_id: str, numbers: list[int]) -> set[int]:
        """Create the page rows that do not exist yet; return the pages already succeeded."""
        with self._session() as session:
            existing = {
                number: status
                for number, status in session.execute(
                    select(Page.number, Page.status).where(Page.task_id == task_id)
                )
            }
            for number in numbers:
                if number not in existing:
                    session.add(Page(task_id=task_id, number=number, status=PageStatus.pending))
            session.execute(update(Task).where(Task.id == task_id).values(pages_total=len(numbers)))
            return {n for n, s in existing.items() if s == PageStatus.succeeded}

    def page_succeeded(self, task_id: str, page: LayoutPage) -> None:
        with self._session() as session:
            lifecycle.record_page_succeeded(session, task_id, page)

    def page_failed(self, task_id: str, number: int, code: str, message: str) -> None:
        with self._session() as session:
            lifecycle.record_page_failed(session, task_id, number, code, message)

    def heartbeat(self, task_id: str) -> bool:
        """Refresh the heartbeat; returns True when the task was asked to cancel."""
        with self._session() as session:
            session.execute(update(Task).where(Task.id == task_id).values(heartbeat_at=utcnow()))
            flag = session.scalar(select(Task.cancel_requested).where(Task.id == task_id))
            return bool(flag) if flag is not None else True

    def cancel_requested(self, task_id: str) -> bool:
        with self._session() as session:
            flag = session.scalar(select(Task.cancel_requested).where(Task.id == task_id))
            return bool(flag) if flag is not None else True

    def progress(self, task_id: str) -> tuple[int, int | None, int, int]:
        """(pages done, pages total, pages failed, pages truncated) as the row counts them."""
        with self._session() as session:
            row = session.execute(
                select(Task.pages_done, Task.pages_total, Task.pages_failed, Task.pages_truncated).where(
                    Task.id == task_id
                )
            ).one_or_none()
            return (row[0], row[1], row[2], row[3]) if row else (0, None, 0, 0)

    def page_rows(self, task_id: str) -> list[tuple[int, str]]:
        with self._session() as session:
            rows = session.execute(
                select(Page.number, Page.status).where(Page.task_id == task_id).order_by(Page.number)
            )
            return [(n, s) for n, s in rows]

    def finish(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        code: str | None = None,
        message: str | None = None,
        result_keys: dict[str, Any] | None = None,
        engine: str | None = None,
        dead_letter: bool = False,
        attempts: int = 0,
    ) -> bool:
        """Store a terminal state, unless the task already has one. True when this call stored it.
        `dead_letter` marks a failure that retrying could have cured (attempts ran out), so that
        operators see it in the dead-letter list."""
        with self._session() as session:
            try:
                if status == TaskStatus.succeeded:
                    lifecycle.succeed(session, task_id, result_keys=result_keys or {}, engine=engine)
                elif status == TaskStatus.canceled:
                    lifecycle.stop_canceled(session, task_id, engine=engine)
                elif dead_letter:
                    lifecycle.dead_letter(
                        session, task_id, attempts=attempts, code=code, message=message, engine=engine
                    )
                else:
                    lifecycle.fail(session, task_id, code=code, message=message, engine=engine)
            except lifecycle.TransitionRefused:
                return False
            return True

    def requeue(
        self, task_id: str, delay_s: float, code: str, message: str, *, refund_attempt: bool = False
    ) -> TaskStatus | None:
        """Back to queued after a transient failure; the caller sends the message. A task whose
        cancel was requested meanwhile ends canceled instead. Returns the state reached, or None
        when the task was no longer running. `refund_attempt`: see `lifecycle.requeue`."""
        with self._session() as session:
            try:
                return lifecycle.requeue(
                    session,
                    task_id,
                    code=code,
                    message=message,
                    not_before=utcnow() + timedelta(seconds=delay_s),
                    refund_attempt=refund_attempt,
                )
            except lifecycle.TransitionRefused:
                return None
