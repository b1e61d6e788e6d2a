"""The outcome of an interactive task: its markdown and layout once it succeeded, or the error
that ended it, in the platform's error shape with the status it deserves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from server.tasks.schemas import TaskResource
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Page, Task, TaskStatus
from shared.db.session import session_scope
from shared.errors import NotFound
from shared.storage import ObjectNotFound, Storage
from shared.storage.keys import layout_key, markdown_key

# codes of a failed task that are the service's fault, not the document's
_SERVER_FAULTS = {"internal_error": 500, "max_attempts_exceeded": 500, "object_missing": 500}
_UNAVAILABLE = {"storage_unavailable", "engine_unavailable", "transient_error", "service_unavailable"}


@dataclass(frozen=True)
class Outcome:
    task: TaskResource
    markdown: str | None  # set when the task succeeded
    layout: dict[str, Any] | None
    page_tokens: list[int | None]  # each page's output tokens, as the engine counted them

    @property
    def succeeded(self) -> bool:
        return self.task.status == TaskStatus.succeeded

    def result_json(self) -> dict[str, Any]:
        return {
            "object": "ocr.result",
            "id": self.task.id,
            "task": self.task.model_dump(mode="json"),
            "markdown": self.markdown,
            "layout": self.layout,
        }

    def failure(self) -> tuple[int, str, str]:
        """(HTTP status, code, message) of a task that did not succeed."""
        error = self.task.error
        code = error.code if error else ("canceled" if self.task.status == TaskStatus.canceled else "failed")
        message = error.message if error else f"the task ended {self.task.status}"
        return failure_status(self.task.status, code), code, message


def failure_status(status: str, code: str) -> int:
    if status == TaskStatus.canceled:
        return 409
    if code in _UNAVAILABLE:
        return 503
    # everything else a task fails with is about the document or its source (422 codes)
    return _SERVER_FAULTS.get(code, 422)


def _load(settings: Settings, storage: Storage, task_id: str) -> Outcome:
    with session_scope(settings.database_url, settings.database_pool_size) as session:
        task = session.get(Task, task_id)
        if task is None:  # deleted while we waited
            raise NotFound(f"no task {task_id!r}", "task_not_found")
        resource = TaskResource.of(task, settings.public_url, utcnow())
        tokens = list(
            session.scalars(select(Page.output_tokens).where(Page.task_id == task_id).order_by(Page.number))
        )
    if resource.status != TaskStatus.succeeded:
        return Outcome(resource, None, None, tokens)
    try:
        markdown = storage.get_bytes(markdown_key(task_id)).decode("utf-8")
        layout = json.loads(storage.get_bytes(layout_key(task_id)))
    except ObjectNotFound:
        raise NotFound("the result object is missing from storage", "result_missing") from None
    return Outcome(resource, markdown, layout, tokens)


async def load_outcome(settings: Settings, storage: Storage, task_id: str) -> Outcome:
    return await run_in_threadpool(_load, settings, storage, task_id)
