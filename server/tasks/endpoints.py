"""HTTP routes of the task API: submit, read, list, cancel, delete and retry.

Routes that create work take an `Idempotency-Key` (`server.idempotency`) and check the owner's
quotas (`server.quotas`); a replayed request gets the first answer's task and status."""

from __future__ import annotations

from typing import Annotated, Any

from celery import Celery
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import idempotency
from server.deps import (
    Caller,
    CallerDep,
    CeleryDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    SubmitOrAdminDep,
    reads_of,
    settings_of,
)
from server.errors import responses
from server.events.deps import EventPublisherDep
from server.idempotency import IdempotencyKeyDep
from server.quotas import check_quota
from server.responses import model_response
from server.tasks import reads, service
from server.tasks.schemas import PageList, PageResource, TaskCreate, TaskError, TaskList, TaskResource
from server.tasks.uploads import stage_upload, staging_file
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.documents.inspect import Limits
from shared.events.model import status_of
from shared.filenames import safe_filename
from shared.options import Mode, PromptPreset, TaskOptions
from shared.page_ranges import select_pages
from shared.storage import Storage
from shared.webhooks.emit import PendingDeliveries
from shared.webhooks.task_events import record_task_event

# The upload route has its own router so that the app can give it the upload size limit.
upload_router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


def _accepted(task: Task, settings_url: str, status_code: int = 202, replayed: bool = False) -> JSONResponse:
    body = TaskResource.of(task, settings_url, utcnow()).model_dump(mode="json")
    headers = {"Location": f"/v1/tasks/{task.id}"}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return JSONResponse(body, status_code=status_code, headers=headers)


def _replay(session: Session, settings: Settings, owner: str, replay: idempotency.Replay) -> JSONResponse:
    task = service.get_task(session, owner, replay.resource_id)
    return _accepted(task, settings.public_url, replay.status_code, replayed=True)


def _commit_new(
    session: Session,
    settings: Settings,
    celery: Celery,
    caller: Caller,
    task: Task,
    key: str | None,
    fp: str,
    storage: Storage | None = None,
) -> JSONResponse:
    """Commit the new task (with its idempotency record) and enqueue it. When a concurrent twin
    with the same key committed first, this one is undone and the twin's answer returned."""
    if key:
        idempotency.remember(session, caller.owner, key, fp, task.id, 202, settings.idempotency_ttl_s)
    try:
        service.commit_and_enqueue(session, celery, [task])
    except IntegrityError:
        session.rollback()
        if storage is not None:
            service.discard_stored(storage, task.id)
        replay = idempotency.find(session, caller.owner, key, fp) if key else None
        if replay is None:
            raise
        return _replay(session, settings, caller.owner, replay)
    return _accepted(task, settings.public_url)


@upload_router.post(
    "/upload",
    status_code=202,
    response_model=TaskResource,
    responses=responses(400, 413, 415, 422, 429, 503),
    summary="Submit a document by upload",
)
async def upload_task(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    key: IdempotencyKeyDep,
    file: Annotated[
        UploadFile, File(description="PDF, PNG, JPEG, TIFF or WebP; the type is read from the content.")
    ],
    mode: Annotated[Mode, Form()] = Mode.gundam,
    prompt: Annotated[PromptPreset, Form()] = PromptPreset.document,
    custom_prompt: Annotated[str | None, Form(max_length=10_000)] = None,
    dpi: Annotated[int | None, Form()] = None,
    pages: Annotated[str | None, Form(max_length=1000)] = None,
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
) -> JSONResponse:
    options = service.validate_options(
        TaskOptions(
            mode=mode, prompt=prompt, custom_prompt=custom_prompt or None, dpi=dpi, pages=pages or None
        ),
        settings,
    )
    spec = service.NewTask(
        owner=caller.owner,
        options=options,
        queue=service.queue_for(options, settings),
        # a task without its own webhook gets its key's default one
        webhook_url=service.validate_webhook_url(webhook_url or caller.webhook_url, settings),
        filename=safe_filename(file.filename),
    )
    if key is None:  # refuse early; a retried request must still get its replay
        check_quota(session, settings, caller.owner)
    limits = Limits(max_pages=settings.max_pages, max_image_pixels=settings.max_image_pixels)
    with staging_file() as path:
        staged = await stage_upload(file, path, settings.max_upload_bytes, limits)
        # the page count is known now: a range past the end fails at once
        selected = select_pages(options.pages, staged.info.page_count)
        fp = idempotency.fingerprint("tasks.upload", {"sha256": staged.sha256, **_request_fields(spec)})
        if key and (replay := idempotency.find(session, caller.owner, key, fp)):
            return _replay(session, settings, caller.owner, replay)
        check_quota(session, settings, caller.owner, pages=len(selected))
        task = service.create_uploaded_task(session, storage, spec, staged)
    return _commit_new(session, settings, celery, caller, task, key, fp, storage)


def _request_fields(spec: service.NewTask) -> dict[str, Any]:
    return {
        "options": spec.options.model_dump(mode="json", exclude_none=True),
        "filename": spec.filename,
        "webhook_url": spec.webhook_url,
    }


@router.post(
    "",
    status_code=202,
    response_model=TaskResource,
    responses=responses(400, 413, 422, 429, 503),
    summary="Submit a document by URL or S3 location",
)
def create_task(
    body: TaskCreate,
    session: SessionDep,
    settings: SettingsDep,
    celery: CeleryDep,
    caller: CallerDep,
    key: IdempotencyKeyDep,
) -> JSONResponse:
    fp = idempotency.fingerprint("tasks.create", body.model_dump(mode="json"))
    if key and (replay := idempotency.find(session, caller.owner, key, fp)):
        return _replay(session, settings, caller.owner, replay)
    options = service.validate_options(body.options(), settings)
    spec = service.NewTask(
        owner=caller.owner,
        options=options,
        queue=service.queue_for(options, settings),
        webhook_url=service.validate_webhook_url(body.webhook_url or caller.webhook_url, settings),
        filename=safe_filename(body.filename) if body.filename else None,
    )
    check_quota(session, settings, caller.owner)
    task = service.create_source_task(session, settings, spec, body.url, body.s3_uri)
    return _commit_new(session, settings, celery, caller, task, key, fp)


# The three reads clients poll are async and sessionless: one statement each (`reads`), the
# key from the process's cache, the caller as their only dependency, and the body serialised
# once (`model_response`).
@router.get("", response_model=TaskList, responses=responses(400, 422), summary="List tasks, newest first")
async def list_tasks(
    request: Request,
    caller: CallerDep,
    status_filter: Annotated[TaskStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    tasks, next_cursor = await reads.list_tasks(reads_of(request), caller.owner, status_filter, limit, cursor)
    base, now = settings_of(request).public_url, utcnow()
    return model_response(
        TaskList(data=[TaskResource.of(t, base, now) for t in tasks], next_cursor=next_cursor)
    )


@router.get("/{task_id}", response_model=TaskResource, responses=responses(404), summary="Get a task")
async def get_task(task_id: str, request: Request, caller: CallerDep) -> Response:
    task = await reads.find_task(reads_of(request), caller.owner, task_id)
    return model_response(TaskResource.of(task, settings_of(request).public_url, utcnow()))


@router.get(
    "/{task_id}/pages", response_model=PageList, responses=responses(404, 422), summary="Per-page status"
)
async def get_pages(
    task_id: str,
    request: Request,
    caller: CallerDep,
    after: Annotated[int, Query(ge=0, description="Return pages after this page number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    pages, next_after = await reads.task_pages(reads_of(request), caller.owner, task_id, after, limit)
    data = [
        PageResource(
            number=p.number,
            status=p.status,
            width=p.width,
            height=p.height,
            dpi=p.dpi,
            blocks=p.blocks,
            output_tokens=p.output_tokens,
            truncated=p.truncated,
            retried=p.retried,
            error=TaskError(code=p.error_code, message=p.error_message or "") if p.error_code else None,
            render_ms=p.render_ms,
            engine_ms=p.engine_ms,
            finished_at=p.finished_at,
        )
        for p in pages
    ]
    next_cursor = str(next_after) if next_after is not None else None
    return model_response(PageList(data=data, next_cursor=next_cursor))


@router.delete(
    "/{task_id}",
    responses={
        200: {"model": TaskResource, "description": "A queued task was canceled."},
        202: {"model": TaskResource, "description": "A running task will stop at its next page."},
        204: {"description": "A finished task and its stored data were deleted."},
        **responses(404, 409, 503),
    },
    summary="Cancel a queued or running task, or delete a finished one",
)
def delete_task(
    task_id: str,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    events: EventPublisherDep,
) -> Response:
    task = service.get_task(session, caller.owner, task_id)
    outcome = service.cancel_or_delete(session, storage, task)
    if outcome == "deleted":
        idempotency.forget_resource(session, task.owner, task.id)
    # a queued task is canceled here, not by a worker: its event is recorded with the new state
    pending = record_task_event(session, settings, task) if outcome == "canceled" else PendingDeliveries()
    session.commit()
    pending.send(celery)
    if outcome == "canceled":  # no worker will: tell the task's live watchers
        events.publish(status_of(task))
    if outcome == "deleted":
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    code = 200 if outcome == "canceled" else 202
    body = TaskResource.of(task, settings.public_url, utcnow()).model_dump(mode="json")
    return JSONResponse(body, status_code=code)


@router.post(
    "/{task_id}/retry",
    status_code=202,
    response_model=TaskResource,
    responses=responses(404, 409, 410),
    summary="Retry a failed task (dead-lettered ones included)",
)
def retry_task(
    task_id: str, session: SessionDep, settings: SettingsDep, celery: CeleryDep, caller: SubmitOrAdminDep
) -> JSONResponse:
    """Back to the queue with fresh attempts; pages that succeeded are kept. The task's owner
    (with the `submit` scope) or an operator (`admin`, any owner's task) may retry."""
    task = service.get_task(session, None if caller.is_admin else caller.owner, task_id)
    service.retry(session, task)
    service.commit_and_enqueue(session, celery, [task])
    return _accepted(task, settings.public_url)
