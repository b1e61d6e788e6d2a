"""Live task events: what a task's watchers see while it runs. Pure data, no I/O.

Three types, each a JSON object carrying `task_id`:

- `status`: the task's state. Published on every transition (`running` when a worker claims the
  task and again, with `progress` and the list of `pages`, once the document is opened;
  `queued` on a retry; `succeeded`, `failed` or `canceled` at the end, with `error`). The first
  event of every stream is a `status` read from the task row.
- `page`: one page finished (`succeeded` or `failed`), with the task's running `progress`.
- `delta`: text of a page as the engine reads it. `offset` is the number of characters of that
  page's text before this delta, so a watcher appends `text` at `offset`; an `offset` of 0 for a
  page that already has text means the page is being read again (a retried attempt). The text
  is the engine's output without DeepSeek's grounding markup (block labels, boxes, special
  tokens); the CPU engine sends a page's whole text in one delta.

Events of one task are ordered: a page's deltas come before its `page` event, and the terminal
`status` comes last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.db.models import Task, TaskStatus


class EventType(StrEnum):
    status = "status"
    page = "page"
    delta = "delta"


@dataclass(frozen=True)
class Progress:
    pages_done: int
    pages_total: int | None
    pages_failed: int = 0
    pages_truncated: int = 0

    def to_json(self) -> dict[str, Any]:
        total = self.pages_total
        percent = round(100.0 * self.pages_done / total, 1) if total else None
        return {
            "pages_done": self.pages_done,
            "pages_total": total,
            "pages_failed": self.pages_failed,
            "pages_truncated": self.pages_truncated,
            "percent": percent,
        }


@dataclass(frozen=True)
class TaskEvent:
    """An event before it is stored: its type and its JSON data."""

    type: EventType
    data: dict[str, Any]

    @property
    def task_id(self) -> str:
        return str(self.data["task_id"])

    @property
    def is_terminal(self) -> bool:
        return self.type == EventType.status and TaskStatus(self.data["status"]).terminal

    def encode(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StoredEvent:
    """An event read back from the store; `id` is the store's cursor (the SSE event id)."""

    id: str
    event: TaskEvent


def decode(type_: str, data: str) -> TaskEvent:
    return TaskEvent(EventType(type_), json.loads(data))


def _error(code: str | None, message: str | None) -> dict[str, str] | None:
    return {"code": code, "message": message or ""} if code else None


def status_event(
    task_id: str,
    status: TaskStatus | str,
    *,
    progress: Progress | None = None,
    pages: list[int] | None = None,
    attempt: int | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> TaskEvent:
    data: dict[str, Any] = {
        "task_id": task_id,
        "status": str(status),
        "progress": progress.to_json() if progress else None,
        "error": _error(error_code, error_message),
    }
    if pages is not None:
        data["pages"] = pages
    if attempt is not None:
        data["attempt"] = attempt
    return TaskEvent(EventType.status, data)


def page_event(
    task_id: str,
    page: int,
    *,
    ok: bool,
    truncated: bool,
    progress: Progress,
    error_code: str | None = None,
    error_message: str | None = None,
) -> TaskEvent:
    return TaskEvent(
        EventType.page,
        {
            "task_id": task_id,
            "page": page,
            "status": "succeeded" if ok else "failed",
            "truncated": truncated,
            "error": _error(error_code, error_message),
            "progress": progress.to_json(),
        },
    )


def delta_event(task_id: str, page: int, offset: int, text: str) -> TaskEvent:
    return TaskEvent(EventType.delta, {"task_id": task_id, "page": page, "offset": offset, "text": text})


def status_of(task: Task) -> TaskEvent:
    """The task row as a `status` event: the first event of every stream, and the terminal one."""
    return status_event(
        task.id,
        task.status,
        progress=Progress(task.pages_done, task.pages_total, task.pages_failed, task.pages_truncated),
        error_code=task.error_code if task.status != TaskStatus.succeeded else None,
        error_message=task.error_message,
    )
