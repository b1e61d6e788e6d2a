"""Batch logic of the API: create, read, list, retry and cancel. Functions flush; the endpoint
commits and then wakes the expander (`arm`)."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.batches.control import stop_batch_work
from shared.batches.keys import URL_CHUNK, archive_key, url_chunk_key
from shared.batches.sources import S3Prefix
from shared.clock import utcnow
from shared.db.models import (
    Batch,
    BatchItem,
    BatchSourceKind,
    BatchStatus,
    ItemState,
    ItemStatus,
    Task,
)
from shared.errors import Conflict, InvalidRequest, NotFound, Unprocessable
from shared.ids import is_valid_id, new_id
from shared.logs import get_logger
from shared.options import TaskOptions
from shared.outbox import outbox
from shared.queue import enqueue_expand
from shared.storage import Storage

log = get_logger(__name__)


@dataclass(frozen=True)
class NewBatch:
    owner: str
    options: TaskOptions
    output_prefix: S3Prefix | None
    webhook_url: str | None
    dedupe: bool
    idempotency_key: str | None

    def fingerprint(self, source: dict[str, Any]) -> str:
        """What makes two submissions the same request (the idempotency key aside)."""
        body = {
            "source": source,
            "options": self.options.model_dump(mode="json"),
            "output_prefix": self.output_prefix.uri if self.output_prefix else None,
            "webhook_url": self.webhook_url,
            "dedupe": self.dedupe,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def find_replay(session: Session, spec: NewBatch, fingerprint: str) -> Batch | None:
    """The batch an earlier request with the same idempotency key created, if any."""
    if spec.idempotency_key is None:
        return None
    batch = session.scalar(
        select(Batch).where(Batch.owner == spec.owner, Batch.idempotency_key == spec.idempotency_key)
    )
    if batch is not None and batch.fingerprint != fingerprint:
        raise Unprocessable(
            "this idempotency key was used for a different batch request; use a new key",
            "idempotency_key_reused",
        )
    return batch


def _new_row(spec: NewBatch, kind: BatchSourceKind, fingerprint: str, **source: Any) -> Batch:
    return Batch(
        id=new_id("bat"),
        owner=spec.owner,
        status=BatchStatus.expanding,
        idempotency_key=spec.idempotency_key,
        fingerprint=fingerprint,
        source_kind=kind,
        options=spec.options.model_dump(mode="json", exclude_none=True),
        output_prefix=spec.output_prefix.uri if spec.output_prefix else None,
        webhook_url=spec.webhook_url,
        dedupe=spec.dedupe,
        expand_token=secrets.token_hex(8),
        created_at=utcnow(),
        **source,
    )


def create_s3_batch(
    session: Session, spec: NewBatch, source: S3Prefix, glob: str | None, fingerprint: str
) -> Batch:
    batch = _new_row(spec, BatchSourceKind.s3, fingerprint, source_uri=source.uri, source_glob=glob)
    session.add(batch)
    session.flush()
    return batch


def create_url_batch(
    session: Session, storage: Storage, spec: NewBatch, urls: list[str], fingerprint: str, name: str | None
) -> Batch:
    batch = _new_row(spec, BatchSourceKind.urls, fingerprint, source_uri=name, source_total=len(urls))
    for chunk in range(0, len(urls), URL_CHUNK):
        text = "\n".join(urls[chunk : chunk + URL_CHUNK]) + "\n"
        storage.put_bytes(url_chunk_key(batch.id, chunk // URL_CHUNK), text.encode(), "text/plain")
    session.add(batch)
    session.flush()
    return batch


def create_archive_batch(
    session: Session,
    storage: Storage,
    spec: NewBatch,
    *,
    path: str,
    fmt: str,
    members: int,
    name: str | None,
    fingerprint: str,
) -> Batch:
    batch = _new_row(
        spec, BatchSourceKind.archive, fingerprint, source_uri=name, source_format=fmt, source_total=members
    )
    batch.source_object = archive_key(batch.id)
    with open(path, "rb") as handle:
        storage.put_file(batch.source_object, handle, "application/octet-stream")
    session.add(batch)
    session.flush()
    return batch


def commit_new(session: Session, batch: Batch, spec: NewBatch, fingerprint: str) -> tuple[Batch, bool]:
    """Commit a new batch; when a concurrent request with the same idempotency key won the
    race, return that one instead. The bool says whether `batch` is new."""
    try:
        session.commit()
        return batch, True
    except IntegrityError:
        session.rollback()
        existing = find_replay(session, spec, fingerprint)
        if existing is None:
            raise
        return existing, False


def arm(session: Session, celery: Celery, batch: Batch) -> None:
    """Wake the expander once `session` commits (`shared.outbox`); a batch that is rolled back
    (a concurrent twin won the idempotency key) sends nothing. A lost message is re-sent by the
    watchdog."""
    if batch.expand_token is None:
        return
    wake = functools.partial(enqueue_expand, celery, batch.id, batch.expand_token)
    outbox(session).add(wake, "batch.arm.failed", batch_id=batch.id)


def get_batch(session: Session, owner: str, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id) if is_valid_id(batch_id, "bat") else None
    if batch is None or batch.owner != owner:
        raise NotFound(f"no batch {batch_id!r}", "batch_not_found")
    return batch


def list_batches(
    session: Session, owner: str, limit: int, cursor: str | None, idempotency_key: str | None
) -> tuple[list[Batch], str | None]:
    query = select(Batch).where(Batch.owner == owner)
    if idempotency_key is not None:
        query = query.where(Batch.idempotency_key == idempotency_key)
    if cursor:
        if not is_valid_id(cursor, "bat"):
            raise InvalidRequest("invalid cursor", "invalid_cursor")
        query = query.where(Batch.id < cursor)
    rows = list(session.scalars(query.order_by(Batch.id.desc()).limit(limit + 1)))
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def list_items(
    session: Session, batch: Batch, limit: int, after: int
) -> tuple[list[tuple[BatchItem, Task | None]], int | None]:
    query = (
        select(BatchItem, Task)
        .outerjoin(Task, Task.id == BatchItem.task_id)
        .where(BatchItem.batch_id == batch.id, BatchItem.id > after)
        .order_by(BatchItem.id)
        .limit(limit + 1)
    )
    pairs: list[tuple[BatchItem, Task | None]] = [(item, task) for item, task in session.execute(query)]
    return pairs[:limit], pairs[limit - 1][0].id if len(pairs) > limit else None


def retry_failed(session: Session, batch: Batch) -> int:
    """Put the failed items back; the expander re-queues their tasks under the bounds."""
    if batch.cancel_requested:
        raise Conflict("the batch was canceled; its failed documents cannot be retried", "batch_canceled")
    failed = BatchItem.status == ItemStatus.failed
    scope = (BatchItem.batch_id == batch.id, BatchItem.state == ItemState.done, failed)
    pages = session.scalars(select(BatchItem.pages).where(*scope, BatchItem.task_id.is_not(None))).all()
    count = _rowcount(
        session.execute(
            update(BatchItem)
            .where(*scope, BatchItem.task_id.is_not(None))
            .values(state=ItemState.retry, status=None, error_code=None, error_message=None, settled_at=None)
        )
    )
    if not count:
        return 0
    # counters move in SQL: the expander may be adding to them at the same moment
    values: dict[str, Any] = {
        "settled_failed": Batch.settled_failed - count,
        "settled_pages": Batch.settled_pages - sum(p or 0 for p in pages),
        "expand_token": secrets.token_hex(8),
    }
    if not batch.active:
        values.update(status=BatchStatus.running, finished_at=None)
    session.execute(update(Batch).where(Batch.id == batch.id).values(**values))
    session.refresh(batch)
    return count


def cancel(session: Session, batch: Batch) -> None:
    """Stop the batch: nothing new is listed or queued, queued tasks are canceled, running ones
    are asked to stop. The expander writes the manifest once the running ones have."""
    if not batch.active:
        raise Conflict(f"the batch is already {batch.status}", "batch_finished")
    if batch.cancel_requested:
        raise Conflict("cancellation was already requested", "cancel_pending")
    batch.cancel_requested = True
    batch.status = BatchStatus.canceling
    batch.expand_token = secrets.token_hex(8)
    session.flush()
    stop_batch_work(session, batch.id, utcnow())
    session.refresh(batch)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
