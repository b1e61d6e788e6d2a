"""An expander driven in-process against PostgreSQL, local storage and the filesystem broker
(messages it sends are not consumed): each test plays the workers by finishing tasks through
the worker's own TaskStore, so the bounds, resume and cancel rules can be observed step by
step."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from shared.batches.sources import archive_limits
from shared.clock import utcnow
from shared.db.models import Batch, BatchItem, Task, TaskStatus
from shared.db.session import get_engine, session_scope
from shared.queue import make_celery
from shared.storage import make_storage
from tests.fixtures.stack import Stack, build_stack
from worker.batches.archive_cache import ArchiveCache
from worker.batches.context import BatchContext
from worker.batches.expander import expand
from worker.pipeline.store import TaskStore


@dataclass
class Harness:
    stack: Stack
    ctx: BatchContext
    finished: list[tuple[str, str]] = field(default_factory=list)

    @property
    def db(self) -> str:
        return self.stack.settings.database_url

    def submit_urls(self, count: int, **body: Any) -> str:
        urls = [f"https://files.example/doc-{i:03d}.pdf" for i in range(count)]
        response = self.stack.api.post("/v1/batches", json={"urls": urls, **body})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def new_context(self) -> BatchContext:
        """What a restarted worker process builds: nothing carried over in memory."""
        settings = self.stack.settings
        return BatchContext(
            settings=settings,
            storage=make_storage(settings),
            app=make_celery(settings),
            cache=ArchiveCache(settings.data_dir / "archive-cache", archive_limits(settings)),
            hooks=[lambda batch_id, status: self.finished.append((batch_id, status))],
        )

    def expand(self, batch_id: str, ctx: BatchContext | None = None) -> None:
        """One expansion run, with the token the last run armed the batch with."""
        expand(ctx or self.ctx, batch_id, self.batch(batch_id).expand_token or "none")

    def batch(self, batch_id: str) -> Batch:
        with session_scope(self.db) as session:
            batch = session.get(Batch, batch_id)
            assert batch is not None
            return batch

    def tasks(self, batch_id: str, *statuses: TaskStatus) -> list[str]:
        with session_scope(self.db) as session:
            query = (
                select(Task.id).join(BatchItem, BatchItem.task_id == Task.id).where(Task.batch_id == batch_id)
            )
            if statuses:
                query = query.where(Task.status.in_(statuses))
            return list(session.scalars(query.order_by(BatchItem.id)))  # source order

    def items(self, batch_id: str) -> list[BatchItem]:
        with session_scope(self.db) as session:
            return list(
                session.scalars(
                    select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)
                )
            )

    def item_count(self, batch_id: str) -> int:
        with session_scope(self.db) as session:
            return int(session.scalar(select(func.count()).where(BatchItem.batch_id == batch_id)) or 0)

    def finish(
        self, task_ids: list[str], status: TaskStatus = TaskStatus.succeeded, code: str | None = None
    ) -> None:
        """Play the worker: claim each task and store its terminal state."""
        store = TaskStore(self.db)
        for task_id in task_ids:
            assert store.claim(task_id, "test-worker", utcnow() - timedelta(hours=1)) is not None
            keys = {
                "markdown": f"tasks/{task_id}/results/full.md",
                "layout": f"tasks/{task_id}/results/layout.json",
            }
            store.finish(
                task_id,
                status,
                code=code,
                message=f"{code} in a test" if code else None,
                result_keys=keys if status == TaskStatus.succeeded else None,
            )


@pytest.fixture
def harness(tmp_path: Path, postgres_url: str) -> Iterator[Harness]:
    with get_engine(postgres_url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    stack = build_stack(
        "expansion",
        tmp_path,
        database_url=postgres_url,
        batch_max_in_flight=5,
        batch_owner_max_in_flight=7,
        batch_list_page_size=10,
    )
    h = Harness(stack, ctx=None)  # type: ignore[arg-type]
    h.ctx = h.new_context()
    yield h
    stack.close()
