"""Task events: `task.succeeded`, `task.failed`, `task.canceled`, their `data`, and the worker's
terminal hook that records them once the terminal state is committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session

from shared.config import Settings, StorageBackend
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.webhooks.emit import PendingDeliveries, record_event
from shared.webhooks.payload import WebhookEventType, iso

log = get_logger(__name__)

TASK_NOTIFICATION_TYPES = {
    TaskStatus.succeeded: WebhookEventType.task_succeeded,
    TaskStatus.failed: WebhookEventType.task_failed,
    TaskStatus.canceled: WebhookEventType.task_canceled,
}


def task_data(task: Task, public_url: str) -> dict[str, Any]:
    """The `data` of a task event: a thin summary and links, never the results themselves."""
    url = f"{public_url.rstrip('/')}/v1/tasks/{task.id}"
    succeeded = task.status == TaskStatus.succeeded and bool(task.result_keys)
    return {
        "object": "task",
        "id": task.id,
        "status": task.status,
        "url": url,
        "filename": task.filename,
        "metadata": task.client_metadata,
        "pages": {
            "total": task.pages_total,
            "done": task.pages_done,
            "failed": task.pages_failed,
            "truncated": task.pages_truncated,
        },
        "error": {"code": task.error_code, "message": task.error_message or ""}
        if task.error_code and task.status != TaskStatus.succeeded
        else None,
        "created_at": iso(task.created_at),
        "finished_at": iso(task.finished_at) if task.finished_at else None,
        "result": {
            "markdown": f"{url}/result.md",
            "layout": f"{url}/result.json",
            "zip": f"{url}/result.zip",
        }
        if succeeded
        else None,
    }


def task_presign_keys(task: Task, settings: Settings) -> dict[str, str] | None:
    """Storage keys to presign at each attempt: S3 only, successful tasks only."""
    keys = task.result_keys or {}
    if (
        not settings.webhook_presigned_urls
        or settings.storage_backend != StorageBackend.s3
        or task.status != TaskStatus.succeeded
        or not keys.get("markdown")
    ):
        return None
    return {"markdown": str(keys["markdown"]), "layout": str(keys["layout"])}


def record_task_notification(session: Session, settings: Settings, task: Task) -> PendingDeliveries:
    """Record the event of a task that just reached its terminal state, in the caller's
    transaction; send the result after the commit."""
    event_type = TASK_NOTIFICATION_TYPES.get(TaskStatus(task.status))
    if event_type is None:
        return PendingDeliveries()
    finished = iso(task.finished_at) if task.finished_at else ""
    return record_event(
        session,
        settings,
        event_type=event_type,
        owner=task.owner,
        subject_kind="task",
        subject_id=task.id,
        data=task_data(task, settings.public_url),
        url=task.webhook_url,
        dedupe_key=f"task:{task.id}:{task.status}:{finished}",
        presign_keys=task_presign_keys(task, settings),
        timestamp=task.finished_at,
    )


def task_notification_hook(settings: Settings, celery: Celery) -> Callable[[str, TaskStatus], None]:
    """A worker terminal hook (see `worker/hooks.py`): runs after the terminal state is committed."""

    def record_task_webhook(task_id: str, status: TaskStatus) -> None:
        try:
            with session_scope(settings.database_url, settings.database_pool_size) as session:
                task = session.get(Task, task_id)
                if task is None or task.status != status:
                    log.info("webhook.task.skipped", task_id=task_id, status=status)
                    return
                record_task_notification(session, settings, task).send_after_commit(session, celery)
        except Exception:
            # the task's state is already stored; a lost event must not undo or fail it
            log.exception("webhook.event.record_failed", task_id=task_id, status=status)

    return record_task_webhook
