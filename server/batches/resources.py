"""Batch rows → API resources."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.batches.failures import failure_groups, retry_hint
from server.batches.progress import estimate, live_counts, pages_by_source
from server.batches.schemas import (
    BatchCounts,
    BatchItemResource,
    BatchProgress,
    BatchResource,
    BatchSource,
)
from server.tasks.schemas import TaskError
from shared.batches.sources import source_label
from shared.db.models import Batch, BatchItem, ItemState, Task


def batch_resource(session: Session, batch: Batch, base_url: str, now: datetime) -> BatchResource:
    counts = live_counts(session, batch)
    paths = pages_by_source(session, batch)
    total = batch.source_total
    guess = estimate(
        done=counts.done,
        pages_done=counts.pages_done,
        listed=batch.items_listed,
        total=total,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        now=now,
    )
    # readable while the batch runs too: the lines of the documents settled so far
    manifest = f"{base_url.rstrip('/')}/v1/batches/{batch.id}/manifest.jsonl"
    return BatchResource(
        id=batch.id,
        status=batch.status,
        source=BatchSource(
            kind=batch.source_kind,
            uri=batch.source_uri,
            glob=batch.source_glob,
            format=batch.source_format,
            total=total,
            listed=batch.items_listed,
            exhausted=batch.source_exhausted,
        ),
        options=batch.options or {},
        output_prefix=batch.output_prefix,
        webhook_url=batch.webhook_url,
        dedupe=batch.dedupe,
        idempotency_key=batch.idempotency_key,
        counts=BatchCounts(
            pending=counts.pending,
            queued=counts.queued,
            running=counts.running,
            succeeded=counts.succeeded,
            failed=counts.failed,
            canceled=counts.canceled,
            skipped=counts.skipped,
            reused=counts.reused,
        ),
        progress=BatchProgress(
            documents_done=counts.done,
            documents_total=total,
            pages_done=counts.pages_done,
            percent=round(100.0 * counts.done / total, 1) if total else None,
            documents_per_min=guess.documents_per_min,
            pages_per_min=guess.pages_per_min,
            eta_s=guess.eta_s,
            eta_partial=guess.partial,
            pages_text_layer=paths.get("text_layer", 0),
            pages_ocr=paths.get("ocr", 0),
        ),
        error=TaskError(code=batch.error_code, message=batch.error_message or "")
        if batch.error_code
        else None,
        manifest=manifest,
        failures=failure_groups(session, batch) if counts.failed else [],
        retry_hint=retry_hint(batch, counts.failed, batch.active),
        cancel_requested=batch.cancel_requested,
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
    )


def _item_status(item: BatchItem, task: Task | None) -> str:
    if item.state == ItemState.done and item.status:
        return item.status
    if item.state == ItemState.submitted and task is not None:
        return task.status
    return "pending"


def item_resource(batch: Batch, item: BatchItem, task: Task | None) -> BatchItemResource:
    code = item.error_code or (task.error_code if task is not None and task.status != "succeeded" else None)
    message = item.error_message or (task.error_message if task is not None else None)
    return BatchItemResource(
        id=item.id,
        source=source_label(batch.source_kind, batch.source_uri, item.source_ref),
        status=_item_status(item, task),
        task_id=item.task_id,
        pages_done=task.pages_done if task is not None else None,
        error=TaskError(code=code, message=message or "") if code else None,
        output={str(k): str(v) for k, v in item.output.items()} if item.output else None,
        reused_from=task.reused_from if task is not None else None,
    )
