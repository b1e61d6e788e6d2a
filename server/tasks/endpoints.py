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
from server.forms import OptionsForm, RefuseUnknownFields
from server.idempotency import IdempotencyKeyDep
from server.quotas import check_quota
from server.responses import model_response
from server.tasks import reads, removal, service
from server.tasks.polling import MAX_WAIT_S, retry_after_s, wait_for_end
from server.tasks.schemas import PageList, PageResource, TaskCreate, TaskError, TaskList, TaskResource
from server.tasks.uploads import stage_upload, staging_file
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Task, TaskStatus
from shared.documents.inspect import Limits
from shared.events.model import status_of
from shared.filenames import safe_filename
from shared.page_ranges import select_pages
from shared.storage import Storage
from shared.task_metadata import parse_form_metadata
from shared.webhooks.task_notifications import record_task_notification

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
    dependencies=[RefuseUnknownFields],
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
    requested: OptionsForm,
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
    metadata: Annotated[
        str | None, Form(description="A JSON object returned unchanged with the task (see docs/api.md).")
    ] = None,
) -> JSONResponse:
    options = service.validate_options(requested, settings)
    spec = service.NewTask(
        owner=caller.owner,
        options=options,
        queue=service.queue_for(options, settings),
        # a task without its own webhook gets its key's default one
        webhook_url=service.validate_webhook_url(
            webhook_url or caller.webhook_url, settings, session, caller.owner
        ),
        filename=safe_filename(file.filename),
        metadata=parse_form_metadata(metadata) if metadata else None,
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
        "metadata": spec.metadata,
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
        webhook_url=service.validate_webhook_url(
            body.webhook_url or caller.webhook_url, settings, session, caller.owner
        ),
        filename=safe_filename(body.filename) if body.filename else None,
        metadata=body.metadata,
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


@router.get(
    "/{task_id}",
    response_model=TaskResource,
    responses={
        200: {
            "description": "The task; a queued one also has `queue_position`.",
            "headers": {
                "Retry-After": {
                    "description": "On a queued task: seconds until another poll is worth making.",
                    "schema": {"type": "integer"},
                }
            },
        },
        **responses(404),
    },
    summary="Get a task (with ?wait=S: when it ends, or after S seconds)",
)
async def get_task(
    task_id: str,
    request: Request,
    caller: CallerDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_S,
            description=f"Long-poll: answer when the task ends or after this many seconds "
            f"(at most {MAX_WAIT_S}), whichever comes first. 0 answers at once.",
        ),
    ] = 0,
) -> Response:
    settings = settings_of(request)
    if wait > 0:  # waits on the live events, holding no database connection
        await wait_for_end(settings, request.app.state.event_feed, caller.owner, task_id, wait)
    task, position = await reads.find_task_and_position(reads_of(request), caller.owner, task_id)
    resource = TaskResource.of(task, settings.public_url, utcnow())
    resource.queue_position = position
    response = model_response(resource)
    if task.status == TaskStatus.queued:
        response.headers["Retry-After"] = str(retry_after_s(resource.queue_position or 0))
    return response


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
            source=p.source,
            finished_at=p.finished_at,
        )
        for p in pages
    ]
    next_cursor = str(next_after) if next_after is not None else None
    return model_response(PageList(data=data, next_cursor=next_cursor))


@router.post(
    "/{task_id}/cancel",
    responses={
        200: {"model": TaskResource, "description": "A queued task was canceled."},
        202: {"model": TaskResource, "description": "A running task will stop at its next page."},
        **responses(404, 409),
    },
    summary="Cancel a queued or running task (its data is kept; DELETE removes it)",
)
def cancel_task(
    task_id: str,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    events: EventPublisherDep,
) -> JSONResponse:
    task = service.get_task(session, caller.owner, task_id)
    outcome = removal.cancel(session, storage, task)
    # a queued task is canceled here, not by a worker: its event is recorded with the new state
    if outcome == "canceled":
        record_task_notification(session, settings, task).send_after_commit(session, celery)
    session.commit()
    if outcome == "canceled":  # no worker will: tell the task's live watchers
        events.publish(status_of(task))
    code = 200 if outcome == "canceled" else 202
    body = TaskResource.of(task, settings.public_url, utcnow()).model_dump(mode="json")
    return JSONResponse(body, status_code=code)


@router.delete(
    "/{task_id}",
    status_code=204,
    responses={
        204: {"description": "The finished task and its stored data were deleted."},
        **responses(404, 409, 503),
    },
    summary="Delete a finished task and its results (409 task_not_finished while it runs)",
)
def delete_task(task_id: str, session: SessionDep, storage: StorageDep, caller: CallerDep) -> Response:
    task = service.get_task(session, caller.owner, task_id)
    removal.delete(session, storage, task)
    idempotency.forget_resource(session, task.owner, task.id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
