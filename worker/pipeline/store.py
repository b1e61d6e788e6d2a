"""The worker's reads and writes of task rows. Each method is one short transaction, so that a
crash between pages loses at most the page in flight, and counters are recomputed from the page
rows, so running a page twice never counts it twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db.models import Page, PageStatus, Task, TaskStatus
from shared.db.session import session_scope
from shared.layout import LayoutPage


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
        now = utcnow()
        with self._session() as session:
            claimable = or_(
                Task.status == TaskStatus.queued,
                and_(Task.status == TaskStatus.running, Task.heartbeat_at < stale_before),
            )
            result = session.execute(
                update(Task)
                .where(Task.id == task_id, claimable, Task.cancel_requested.is_(False))
                .values(
                    status=TaskStatus.running,
                    attempts=Task.attempts + 1,
                    worker=worker,
                    started_at=func.coalesce(Task.started_at, now),
                    heartbeat_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            task = session.get(Task, task_id)
            return TaskSnapshot.of(task) if task else None

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
            self._lock_task(session, task_id)
            session.execute(
                update(Page)
                .where(Page.task_id == task_id, Page.number == page.number)
                .values(
                    status=PageStatus.succeeded,
                    width=page.width,
                    height=page.height,
                    dpi=page.dpi,
                    blocks=len(page.blocks),
                    output_tokens=page.output_tokens,
                    truncated=page.truncated,
                    retried=page.retried,
                    error_code=None,
                    error_message=None,
                    render_ms=page.timings.render_ms,
                    engine_ms=page.timings.engine_ms,
                    source=page.source,
                    finished_at=utcnow(),
                )
            )
            self._recount(session, task_id)

    def page_failed(self, task_id: str, number: int, code: str, message: str) -> None:
        with self._session() as session:
            self._lock_task(session, task_id)
            session.execute(
                update(Page)
                .where(Page.task_id == task_id, Page.number == number)
                .values(
                    status=PageStatus.failed,
                    error_code=code,
                    error_message=message[:2000],
                    finished_at=utcnow(),
                )
            )
            self._recount(session, task_id)

    def _lock_task(self, session: Session, task_id: str) -> None:
        """Serialise the page updates of one task. Pages finish in parallel; on PostgreSQL two
        transactions recounting at once would each miss the other's page (READ COMMITTED reads
        the count at statement start) and both store a short count. Updating the task row first
        takes its row lock (SQLite: the write lock), so the recount runs after the other commit."""
        session.execute(update(Task).where(Task.id == task_id).values(heartbeat_at=utcnow()))

    def _recount(self, session: Session, task_id: str) -> None:
        def count(*conditions: Any) -> Any:
            return (
                select(func.count())
                .select_from(Page)
                .where(Page.task_id == task_id, *conditions)
                .scalar_subquery()
            )

        session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(
                pages_done=count(Page.status != PageStatus.pending),
                pages_failed=count(Page.status == PageStatus.failed),
                pages_truncated=count(Page.truncated.is_(True)),
                heartbeat_at=utcnow(),
            )
        )

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
    ) -> bool:
        """Store a terminal state, unless the task already has one. True when this call stored it.
        `dead_letter` marks a failure that retrying could have cured (attempts ran out), so that
        operators see it in the dead-letter list."""
        now = utcnow()
        with self._session() as session:
            result = session.execute(
                update(Task)
                .where(Task.id == task_id, Task.status.in_([TaskStatus.queued, TaskStatus.running]))
                .values(
                    status=status,
                    error_code=code,
                    error_message=(message or None) and message[:4000],
                    result_keys=result_keys,
                    engine=engine,
                    finished_at=now,
                    heartbeat_at=None,
                    dead_lettered_at=now if dead_letter else None,
                )
            )
            return bool(result.rowcount == 1)

    def requeue(self, task_id: str, delay_s: float, code: str, message: str) -> None:
        """Back to queued after a transient failure; the caller sends the message."""
        with self._session() as session:
            session.execute(
                update(Task)
                .where(Task.id == task_id, Task.status == TaskStatus.running)
                .values(
                    status=TaskStatus.queued,
                    error_code=code,
                    error_message=message[:4000],
                    heartbeat_at=None,
                    enqueued_at=utcnow() + timedelta(seconds=delay_s),
                )
            )
