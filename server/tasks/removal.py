"""Cancel and delete as two requests (`POST /v1/tasks/{id}/cancel`, `DELETE /v1/tasks/{id}`):
the API's rules of which task each applies to, in front of the service's one state change
(`service.cancel_or_delete`). Deleting never cancels, so a mistaken or retried DELETE cannot
throw away a running task's work; cancelling never deletes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.tasks.service import CancelOutcome, cancel_or_delete
from shared.db.models import Task, TaskStatus
from shared.errors import Conflict
from shared.storage import Storage


def cancel(session: Session, storage: Storage, task: Task) -> CancelOutcome:
    """`POST /v1/tasks/{id}/cancel`: a queued task is canceled at once, a running one stops at
    its next page. A finished task has nothing left to cancel."""
    if TaskStatus(task.status).terminal:
        raise Conflict(
            f"the task is {task.status}; only queued or running tasks can be canceled", "task_finished"
        )
    return cancel_or_delete(session, storage, task)


def delete(session: Session, storage: Storage, task: Task) -> None:
    """`DELETE /v1/tasks/{id}`: a finished task and its stored data. Work still queued or
    running is refused rather than canceled, so that a retried DELETE never loses results."""
    if not TaskStatus(task.status).terminal:
        raise Conflict(
            f"the task is {task.status}; cancel it first (POST /v1/tasks/{task.id}/cancel), "
            "then delete it once it has stopped",
            "task_not_finished",
        )
    cancel_or_delete(session, storage, task)
