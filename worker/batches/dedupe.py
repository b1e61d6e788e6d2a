"""Dedupe: a batch task whose document is identical (same sha256, same owner, same options) to
one that already succeeded takes that task's results instead of running the engine.

The results are copied, not referenced: full.md, layout.json (its `task_id` rewritten) and
the figure crops are written under the new task's own prefix and its page rows are copied. A
reused task is then an ordinary task: its result endpoints work unchanged, and deleting either
task never breaks the other. Results are small next to inputs, so the copy is cheap. The task
records the original in `reused_from`.

Only finished results are reused: two identical documents in flight at once both run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from shared.db.models import Batch, Page, Task, TaskStatus
from shared.db.session import session_scope
from shared.layout import LayoutDocument
from shared.logs import get_logger
from shared.queue import QUEUE_BATCH
from shared.storage import ObjectNotFound, Storage
from shared.storage.keys import layout_key, results_prefix

log = get_logger(__name__)
CANDIDATES = 20
_PAGE_FIELDS = (
    "number",
    "status",
    "width",
    "height",
    "dpi",
    "blocks",
    "output_tokens",
    "truncated",
    "retried",
    "error_code",
    "error_message",
    "finished_at",
)


def copy_results(storage: Storage, origin: str, task_id: str) -> dict[str, Any]:
    source, target = results_prefix(origin), results_prefix(task_id)
    images: list[str] = []
    for key in storage.list_keys(source):
        name = key[len(source) :]
        data = storage.get_bytes(key)
        if key == layout_key(origin):
            document = LayoutDocument.model_validate_json(data)
            data = document.model_copy(update={"task_id": task_id}).model_dump_json(indent=1).encode()
        storage.put_bytes(target + name, data)
        if name.startswith("images/"):
            images.append(name.removeprefix("images/"))
    return {"markdown": f"{target}full.md", "layout": f"{target}layout.json", "images": sorted(images)}


class Deduper:
    """Called by the pipeline once a task's input is known; returns the result keys when the
    task was satisfied by an earlier identical one, None when it must run."""

    def __init__(self, database_url: str, storage: Storage) -> None:
        self.database_url = database_url
        self.storage = storage

    def _origin(self, task_id: str) -> tuple[Task, Task, list[dict[str, Any]]] | None:
        with session_scope(self.database_url) as session:
            task = session.get(Task, task_id)
            if task is None or task.batch_id is None or task.sha256 is None:
                return None
            if not session.scalar(select(Batch.dedupe).where(Batch.id == task.batch_id)):
                return None
            candidates = session.scalars(
                select(Task)
                .where(
                    Task.owner == task.owner,
                    Task.sha256 == task.sha256,
                    Task.status == TaskStatus.succeeded,
                    Task.id != task.id,
                )
                .order_by(Task.finished_at.desc())
                .limit(CANDIDATES)
            ).all()
            # options decide the result; JSON columns cannot be compared in SQL everywhere
            origin = next((c for c in candidates if c.options == task.options and c.result_keys), None)
            if origin is None:
                return None
            pages = [
                {field: getattr(page, field) for field in _PAGE_FIELDS}
                for page in session.scalars(select(Page).where(Page.task_id == origin.id))
            ]
            return task, origin, pages

    def __call__(self, task_id: str, queue: str) -> dict[str, Any] | None:
        if queue != QUEUE_BATCH and not queue.startswith(f"{QUEUE_BATCH}."):
            return None  # only batch tasks ask for dedupe; skip the lookup for the rest
        found = self._origin(task_id)
        if found is None:
            return None
        task, origin, pages = found
        try:
            keys = copy_results(self.storage, origin.id, task_id)
        except ObjectNotFound:
            return None  # the original's results were deleted meanwhile: just run
        with session_scope(self.database_url) as session:
            session.execute(delete(Page).where(Page.task_id == task_id))
            session.add_all(Page(task_id=task_id, **page) for page in pages)
            session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    reused_from=origin.reused_from or origin.id,
                    page_count=origin.page_count,
                    pages_total=origin.pages_total,
                    pages_done=origin.pages_done,
                    pages_failed=origin.pages_failed,
                    pages_truncated=origin.pages_truncated,
                )
            )
        log.info("task.reused", task_id=task_id, origin=origin.id, sha256=task.sha256)
        return keys
