"""HTTP routes of the batch API: submit (JSON or upload), read, list items, retry, cancel and
the manifest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.concurrency import iterate_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.batches import probes, service
from server.batches.resources import batch_resource, item_resource
from server.batches.schemas import BatchCreate, BatchItemList, BatchList, BatchResource, RetryResult
from server.batches.service import NewBatch
from server.batches.uploads import judge_source, stage_source
from server.deps import CallerDep, CeleryDep, SessionDep, SettingsDep, StorageDep
from server.errors import responses
from server.forms import OptionsForm, RefuseUnknownFields
from server.idempotency import REPLAYED_HEADER
from server.tasks.service import validate_options, validate_webhook_url
from server.tasks.uploads import staging_file
from shared.batches.manifest import manifest_lines
from shared.batches.sources import check_glob, output_prefix, parse_s3_prefix, parse_url_list
from shared.clock import utcnow
from shared.config import Settings
from shared.db.models import Batch
from shared.errors import InvalidRequest, NotFound
from shared.filenames import safe_filename
from shared.options import TaskOptions
from shared.storage import ObjectNotFound

upload_router = APIRouter(prefix="/v1/batches", tags=["batches"])
router = APIRouter(prefix="/v1/batches", tags=["batches"])


def _answer(session: SessionDep, batch: Batch, base_url: str, created: bool) -> JSONResponse:
    """202 and the batch; a replay (same idempotency key) gets the same, marked as replayed."""
    body = batch_resource(session, batch, base_url, utcnow()).model_dump(mode="json")
    headers = {"Location": f"/v1/batches/{batch.id}"}
    if not created:
        headers[REPLAYED_HEADER] = "true"
    return JSONResponse(body, status_code=202, headers=headers)


def _spec(
    settings: Settings,
    owner: str,
    options: TaskOptions,
    output: str | None,
    webhook_url: str | None,
    dedupe: bool,
    key: str | None,
    session: Session | None = None,
) -> NewBatch:
    out = output_prefix(output) if output else None
    if out is not None:
        probes.check_output(settings, out)
    if key is not None and not key.strip():
        raise InvalidRequest("idempotency_key is empty", "invalid_idempotency_key")
    return NewBatch(
        owner=owner,
        options=validate_options(options, settings),
        output_prefix=out,
        webhook_url=validate_webhook_url(webhook_url, settings, session, owner),
        dedupe=dedupe,
        idempotency_key=key.strip() if key else None,
    )


@router.post(
    "",
    status_code=202,
    response_model=BatchResource,
    responses=responses(400, 409, 413, 422, 503),
    summary="Back-fill an S3 prefix or a list of URLs",
)
def create_batch(
    body: BatchCreate,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    idempotency_header: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    key = body.idempotency_key or idempotency_header
    spec = _spec(
        settings,
        caller.owner,
        body.options(),
        body.output_prefix,
        body.webhook_url or caller.webhook_url,
        body.dedupe,
        key,
        session,
    )
    if body.s3_prefix is not None:
        source = parse_s3_prefix(body.s3_prefix, "s3_prefix")
        glob = check_glob(body.glob)
        fingerprint = spec.fingerprint({"s3": source.uri, "glob": glob})
        if replay := service.find_replay(session, spec, fingerprint):
            return _answer(session, replay, settings.public_url, created=False)
        probes.check_source(settings, source)
        batch = service.create_s3_batch(session, spec, source, glob, fingerprint)
    else:
        urls = parse_url_list(body.urls or [], settings.batch_max_urls)
        fingerprint = spec.fingerprint({"urls": urls})
        if replay := service.find_replay(session, spec, fingerprint):
            return _answer(session, replay, settings.public_url, created=False)
        batch = service.create_url_batch(session, storage, spec, urls, fingerprint, None)
    service.arm(session, celery, batch)
    batch, created = service.commit_new(session, batch, spec, fingerprint)
    return _answer(session, batch, settings.public_url, created)


@upload_router.post(
    "/upload",
    status_code=202,
    response_model=BatchResource,
    responses=responses(400, 409, 413, 415, 422, 503),
    summary="Back-fill an uploaded zip or tar archive, or a text file of URLs",
    dependencies=[RefuseUnknownFields],
)
async def upload_batch(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    celery: CeleryDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="zip, tar (optionally gz/bz2/xz), or URLs one a line.")],
    options: OptionsForm,
    output_prefix: Annotated[str | None, Form(max_length=2048)] = None,
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
    dedupe: Annotated[bool, Form()] = False,
    idempotency_key: Annotated[str | None, Form(max_length=200)] = None,
    idempotency_header: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    idempotency_key = idempotency_key or idempotency_header
    spec = await run_in_threadpool(
        _spec,
        settings,
        caller.owner,
        options,
        output_prefix or None,
        webhook_url or caller.webhook_url,
        dedupe,
        idempotency_key,
        session,
    )
    name = safe_filename(file.filename, fallback="upload")
    with staging_file() as path:
        size, digest = await stage_source(file, path, settings)
        fingerprint = spec.fingerprint({"file": digest})
        if replay := service.find_replay(session, spec, fingerprint):
            return _answer(session, replay, settings.public_url, created=False)
        staged = await run_in_threadpool(judge_source, path, size, digest, settings)
        if staged.urls is not None:
            batch = await run_in_threadpool(
                service.create_url_batch, session, storage, spec, staged.urls, fingerprint, name
            )
        else:
            assert staged.archive is not None
            batch = await run_in_threadpool(
                lambda: service.create_archive_batch(
                    session,
                    storage,
                    spec,
                    path=path,
                    fmt=str(staged.archive),
                    members=len(staged.members or ()),
                    name=name,
                    fingerprint=fingerprint,
                )
            )
    service.arm(session, celery, batch)
    batch, created = service.commit_new(session, batch, spec, fingerprint)
    return _answer(session, batch, settings.public_url, created)


@router.get("", response_model=BatchList, responses=responses(400, 422), summary="List batches, newest first")
def list_batches(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    idempotency_key: Annotated[str | None, Query(max_length=200)] = None,
) -> BatchList:
    batches, next_cursor = service.list_batches(session, caller.owner, limit, cursor, idempotency_key)
    now = utcnow()
    return BatchList(
        data=[batch_resource(session, b, settings.public_url, now) for b in batches], next_cursor=next_cursor
    )


@router.get("/{batch_id}", response_model=BatchResource, responses=responses(404), summary="Get a batch")
def get_batch(batch_id: str, session: SessionDep, settings: SettingsDep, caller: CallerDep) -> BatchResource:
    batch = service.get_batch(session, caller.owner, batch_id)
    return batch_resource(session, batch, settings.public_url, utcnow())


@router.get(
    "/{batch_id}/tasks",
    response_model=BatchItemList,
    responses=responses(404, 422),
    summary="The batch's documents and their tasks, in source order",
)
def list_batch_tasks(
    batch_id: str,
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int, Query(ge=0, description="`next_cursor` of the previous page.")] = 0,
) -> BatchItemList:
    batch = service.get_batch(session, caller.owner, batch_id)
    pairs, next_cursor = service.list_items(session, batch, limit, cursor)
    return BatchItemList(
        data=[item_resource(batch, item, task) for item, task in pairs],
        next_cursor=str(next_cursor) if next_cursor is not None else None,
    )


@router.post(
    "/{batch_id}/retry-failed",
    status_code=202,
    response_model=RetryResult,
    responses=responses(404, 409),
    summary="Queue the failed documents again",
)
def retry_failed(
    batch_id: str, session: SessionDep, settings: SettingsDep, celery: CeleryDep, caller: CallerDep
) -> JSONResponse:
    batch = service.get_batch(session, caller.owner, batch_id)
    count = service.retry_failed(session, batch)
    if count:
        service.arm(session, celery, batch)
    session.commit()
    body = RetryResult(retrying=count, batch=batch_resource(session, batch, settings.public_url, utcnow()))
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if count else 200)


@router.delete(
    "/{batch_id}",
    status_code=202,
    response_model=BatchResource,
    responses=responses(404, 409),
    summary="Cancel a batch: stop expansion, cancel queued tasks, ask running ones to stop",
)
def cancel_batch(
    batch_id: str, session: SessionDep, settings: SettingsDep, celery: CeleryDep, caller: CallerDep
) -> JSONResponse:
    batch = service.get_batch(session, caller.owner, batch_id)
    service.cancel(session, batch)
    service.arm(session, celery, batch)
    session.commit()
    body = batch_resource(session, batch, settings.public_url, utcnow()).model_dump(mode="json")
    return JSONResponse(body, status_code=202)


@router.get(
    "/{batch_id}/manifest.jsonl",
    responses=responses(404, 409),
    summary="One JSON line per source object: task, status, result keys, error",
    response_class=StreamingResponse,
)
def batch_manifest(
    batch_id: str, session: SessionDep, settings: SettingsDep, storage: StorageDep, caller: CallerDep
) -> StreamingResponse:
    """While the batch runs: the lines of the documents settled so far (each final; fetch again
    for more), marked `X-Manifest-Complete: false`. Once it ends: the whole stored file."""
    batch = service.get_batch(session, caller.owner, batch_id)
    filename = {"Content-Disposition": f'attachment; filename="{batch.id}-manifest.jsonl"'}
    if batch.active or batch.manifest_key is None:
        lines = (f"{line}\n" for line in manifest_lines(settings.database_url, batch, settled_only=True))
        return StreamingResponse(
            iterate_in_threadpool(lines),
            media_type="application/x-ndjson",
            headers={**filename, "X-Manifest-Complete": "false"},
        )
    try:
        chunks = storage.iter_chunks(batch.manifest_key)
    except ObjectNotFound:
        raise NotFound("the manifest is missing from storage", "manifest_missing") from None
    return StreamingResponse(
        chunks, media_type="application/x-ndjson", headers={**filename, "X-Manifest-Complete": "true"}
    )
