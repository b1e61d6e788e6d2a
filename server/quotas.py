"""Per-owner quotas on work waiting or under way: queued tasks, and pages of queued and running
tasks, submitted directly (`POST /v1/tasks`, `/v1/tasks/upload`, `/v1/ocr`, chat completions).
Checked before work is accepted (and again once an upload's page count is known); the answer is
429 `quota_exceeded` with a Retry-After, since the quota frees up as work finishes.

Tasks of batches are not counted: a backfill feeds its tasks in at its own pace, bounded per
batch and per owner (OCR_BATCH_MAX_IN_FLIGHT, OCR_BATCH_OWNER_MAX_IN_FLIGHT), and must not lock
its owner out of interactive work."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.errors import RateLimited

QUOTA_RETRY_AFTER_S = 30


def owner_load(session: Session, owner: str) -> tuple[int, int]:
    """(queued tasks, pages still to do in queued and running tasks) of `owner`."""
    # a task's page count is unknown until its document is opened (URL and S3 sources): it
    # counts as one page until then
    pages_left = func.coalesce(Task.pages_total, Task.page_count, 1) - Task.pages_done
    queued, pages = session.execute(
        select(
            func.count().filter(Task.status == TaskStatus.queued),
            func.coalesce(func.sum(pages_left), 0),
        ).where(
            Task.owner == owner,
            Task.batch_id.is_(None),
            Task.status.in_([TaskStatus.queued, TaskStatus.running]),
        )
    ).one()
    return int(queued), int(pages)


def check_quota(session: Session, settings: Settings, owner: str, tasks: int = 1, pages: int = 0) -> None:
    """Raise 429 `quota_exceeded` unless `owner` may add `tasks` tasks of `pages` pages."""
    if settings.quota_queued_tasks <= 0 and settings.quota_pages_in_flight <= 0:
        return
    queued, in_flight = owner_load(session, owner)
    if 0 < settings.quota_queued_tasks < queued + tasks:
        raise RateLimited(
            f"{queued} of your tasks are queued and the quota is {settings.quota_queued_tasks}; "
            "submit more once some have started",
            "quota_exceeded",
            retry_after=QUOTA_RETRY_AFTER_S,
        )
    if 0 < settings.quota_pages_in_flight < in_flight + pages:
        raise RateLimited(
            f"{in_flight} pages of yours are queued or running and the quota is "
            f"{settings.quota_pages_in_flight}; this submission adds {pages}",
            "quota_exceeded",
            retry_after=QUOTA_RETRY_AFTER_S,
        )
