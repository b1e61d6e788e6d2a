"""Rows and settings for webhook tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.clock import utcnow
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.ids import new_id
from shared.webhooks.emit import PendingDeliveries
from shared.webhooks.task_notifications import record_task_notification
from tests.fixtures.webhook_receiver import TEST_SECRET


def webhook_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "url_allowlist": "127.0.0.0/8",
        "webhook_secrets": TEST_SECRET,
        "webhook_retry_schedule": "0,0,0",
        "webhook_timeout_s": 5,
        "public_url": "https://ocr.example.com",
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    return settings


def finished_task(
    settings: Settings,
    webhook_url: str | None,
    status: TaskStatus = TaskStatus.failed,
    owner: str = "default",
    **fields: Any,
) -> tuple[str, PendingDeliveries]:
    """A task in a terminal state with its event recorded, as the worker's hook leaves it."""
    now = utcnow()
    values: dict[str, Any] = {
        "id": new_id("tsk"),
        "owner": owner,
        "status": status,
        "source_kind": "upload",
        "filename": "scan.pdf",
        "options": {},
        "webhook_url": webhook_url,
        "pages_total": 2,
        "pages_done": 2,
        "pages_failed": 2 if status == TaskStatus.failed else 0,
        "created_at": now,
        "finished_at": now,
    }
    if status == TaskStatus.failed:
        values.update(error_code="all_pages_failed", error_message="no page could be processed")
    values.update(fields)
    with session_scope(settings.database_url) as session:
        task = Task(**values)
        session.add(task)
        session.flush()
        pending = record_task_notification(session, settings, task)
    return task.id, pending
