"""Task logic of the API: create, read, list, cancel, delete. Functions flush; the endpoint
commits and then enqueues."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.tasks.uploads import StagedFile
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import SourceKind, Task, TaskStatus
from shared.errors import Gone, InvalidRequest, NotFound
from shared.ids import is_valid_id, new_id
from shared.logs import get_logger
from shared.options import TaskOptions
from shared.outbox import outbox
from shared.queue import QUEUE_INTERACTIVE, enqueue_process, routed_queue
from shared.storage import Storage, StorageError
from shared.storage.keys import input_key, task_prefix
from shared.storage.s3_credentials import require_s3
from shared.tasks import lifecycle
from shared.urls import check_url, parse_allowlist, parse_s3_uri
from shared.webhooks.owner_secrets import has_own_secret

log = get_logger(__name__)


@dataclass(frozen=True)
class NewTask:
    owner: str
    options: TaskOptions
    webhook_url: str | None
    queue: str = QUEUE_INTERACTIVE
    filename: str | None = None
    metadata: dict[str, Any] | None = None


def validate_options(options: TaskOptions, settings: Settings) -> TaskOptions:
    if options.dpi is not None and not settings.min_dpi <= options.dpi <= settings.max_dpi:
        raise InvalidRequest(f"dpi must be between {settings.min_dpi} and {settings.max_dpi}", "invalid_dpi")
    return options


def queue_for(options: TaskOptions, settings: Settings, queue: str = QUEUE_INTERACTIVE) -> str:
    """Tasks of a resolution mode with queues of its own (OCR_MODE_QUEUES) go there."""
    return routed_queue(queue, str(options.mode), settings.routed_modes)


def validate_webhook_url(
    url: str | None, settings: Settings, session: Session | None = None, owner: str | None = None
) -> str | None:
    """The webhook URL when it is usable and something can sign its deliveries: the owner's
    own secret (when `session` and `owner` are given) or the installation's fallback."""
    if not url:
        return None
    # the URL first: a bad URL is the caller's to fix whatever the server's configuration
    check_url(url, parse_allowlist(settings.url_allowlist))
    owned = session is not None and owner is not None and has_own_secret(session, owner, utcnow())
    if not owned and not settings.webhook_secrets.strip():
        raise InvalidRequest(
            "this server cannot sign your webhooks: you have no webhook secret (POST "
            "/v1/webhooks/secrets/rotate makes one) and the server has no fallback "
            "(OCR_WEBHOOK_SECRETS); submit without webhook_url",
            "webhooks_not_configured",
        )
    return url


def _new_row(spec: NewTask, kind: SourceKind, uri: str | None) -> Task:
    return Task(
        id=new_id("tsk"),
        owner=spec.owner,
        status=TaskStatus.queued,
        queue=spec.queue,
        source_kind=kind,
        source_uri=uri,
        filename=spec.filename,
        options=spec.options.model_dump(mode="json", exclude_none=True),
        webhook_url=spec.webhook_url,
        client_metadata=spec.metadata,
        created_at=utcnow(),
    )


def create_uploaded_task(session: Session, storage: Storage, spec: NewTask, staged: StagedFile) -> Task:
    task = _new_row(spec, SourceKind.upload, None)
    task.content_type = staged.info.type.content_type
    task.size_bytes = staged.size
    task.sha256 = staged.sha256
    task.page_count = staged.info.page_count
    task.input_key = input_key(task.id, staged.info.type.extension)
    with open(staged.path, "rb") as handle:
        storage.put_file(task.input_key, handle, task.content_type)
    session.add(task)
    session.flush()
    return task


def create_source_task(
    session: Session, settings: Settings, spec: NewTask, url: str | None, s3_uri: str | None
) -> Task:
    if url:
        check_url(url, parse_allowlist(settings.url_allowlist))
        task = _new_row(spec, SourceKind.url, url)
    else:
        assert s3_uri is not None
        parse_s3_uri(s3_uri)
        require_s3(settings)
        task = _new_row(spec, SourceKind.s3, s3_uri)
    session.add(task)
    session.flush()
    return task


def commit_and_enqueue(session: Session, celery: Celery, tasks: list[Task]) -> None:
    """Commit, and wake the workers once committed (`shared.outbox`): a message never points at
    an uncommitted row. A send that fails leaves the task queued; the sweep sends it again."""
    now = utcnow()
    box = outbox(session)
    for task in tasks:
        task.enqueued_at = now
        wake = functools.partial(enqueue_process, celery, task.id, task.queue)
        box.add(wake, "task.enqueue.failed", task_id=task.id)
    session.commit()


def discard_stored(storage: Storage, task_id: str) -> None:
    """Remove what a request stored for a task that was not committed after all."""
    try:
        storage.delete_prefix(task_prefix(task_id))
    except StorageError as exc:
        log.warning("task.discard.failed", task_id=task_id, error=str(exc))


def get_task(session: Session, owner: str | None, task_id: str) -> Task:
    """The task `task_id` of `owner` (None: of any owner, for operators). Another owner's task
    is reported missing, exactly like one that does not exist."""
    task = session.get(Task, task_id) if is_valid_id(task_id, "tsk") else None
    if task is None or (owner is not None and task.owner != owner):
        raise NotFound(f"no task {task_id!r}", "task_not_found")
    return task


def list_tasks(
    session: Session,
    owner: str | None,
    status: TaskStatus | None,
    limit: int,
    cursor: str | None,
    dead_letters_only: bool = False,
) -> tuple[list[Task], str | None]:
    query = select(Task)
    if owner is not None:
        query = query.where(Task.owner == owner)
    if status is not None:
        query = query.where(Task.status == status)
    if dead_letters_only:
        query = query.where(Task.status == TaskStatus.failed, Task.dead_lettered_at.is_not(None))
    if cursor:
        if not is_valid_id(cursor, "tsk"):
            raise InvalidRequest("invalid cursor", "invalid_cursor")
        query = query.where(Task.id < cursor)
    rows = list(session.scalars(query.order_by(Task.id.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


CancelOutcome = Literal["canceled", "cancel_requested", "deleted"]


def cancel_or_delete(session: Session, storage: Storage, task: Task) -> CancelOutcome:
    status = TaskStatus(task.status)
    if status == TaskStatus.queued:
        try:
            lifecycle.cancel_queued(session, task.id)
            return "canceled"
        except lifecycle.TransitionRefused:
            if task.status != TaskStatus.running:
                raise  # it ended meanwhile: the caller asked to cancel, not to delete
            status = TaskStatus.running  # a worker claimed it meanwhile: ask it to stop
    if status == TaskStatus.running:
        lifecycle.request_cancel(session, task.id)
        return "cancel_requested"
    storage.delete_prefix(task_prefix(task.id))
    session.delete(task)
    return "deleted"


def retry(session: Session, task: Task) -> Task:
    """Put a failed task back in the queue with fresh attempts. Pages that succeeded keep their
    checkpoints and are not processed again."""
    expired = task.input_expired_at is not None or task.results_expired_at is not None
    if task.status == TaskStatus.failed and expired:
        raise Gone(
            "the task's stored data was deleted under the retention policy; submit the document again",
            "input_expired",
        )
    lifecycle.reset_for_retry(session, task.id)  # refuses any task but a failed one
    return task
