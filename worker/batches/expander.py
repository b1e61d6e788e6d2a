"""One expansion run of a batch, re-armed until the batch is finished.

A run claims the batch with the token its message carries (and swaps in its own, so a
duplicate or stale message finds nothing to claim), then:

1. settles the items whose task finished (mirroring outputs),
2. lists the source a page further once no listed item waits for a task,
3. creates tasks for waiting items while the in-flight bounds leave room,
4. ends the batch when the source is exhausted (or canceled) and every item is settled:
   writes the manifest, stores the final state, then runs the batch hooks;

and otherwise sends itself again with a countdown. Every step is its own short transaction
and safe to repeat, so a run killed anywhere is simply repeated by the next one (the watchdog
sends one when a chain of runs died with its worker).
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update

from shared.batches.control import stop_batch_work
from shared.clock import utcnow
from shared.db.models import ACTIVE_BATCH_STATUSES, Batch, BatchItem, BatchStatus, ItemState
from shared.db.session import session_scope
from shared.errors import OcrpError
from shared.logs import EventLogger, get_logger
from shared.queue import enqueue_expand
from worker.batches.context import BatchContext
from worker.batches.listing import list_page
from worker.batches.manifest import write_manifest
from worker.batches.recording import record_page
from worker.batches.settling import settle
from worker.batches.submitting import submit

# list/submit rounds per run: enough to fill a large bound, short enough to stay responsive
ROUNDS_PER_RUN = 10
RETRY_DELAY_S = 10.0
_ACTIVE = list(ACTIVE_BATCH_STATUSES)


def _claim(ctx: BatchContext, batch_id: str, token: str) -> tuple[Batch, str] | None:
    run_token = secrets.token_hex(8)
    with session_scope(ctx.db) as session:
        claimed = session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.expand_token == token, Batch.status.in_(_ACTIVE))
            .values(expand_token=run_token, expand_heartbeat_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        batch = session.get(Batch, batch_id)
        return (batch, run_token) if batch is not None else None


def _reload(ctx: BatchContext, batch_id: str, run_token: str) -> Batch | None:
    """The batch as it is now, with a fresh heartbeat; None when this run lost its claim."""
    with session_scope(ctx.db) as session:
        beat = session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.expand_token == run_token)
            .values(expand_heartbeat_at=utcnow())
        )
        if beat.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(Batch, batch_id)


def _waiting(ctx: BatchContext, batch_id: str, *states: ItemState) -> int:
    with session_scope(ctx.db) as session:
        count = session.scalar(
            select(func.count())
            .select_from(BatchItem)
            .where(BatchItem.batch_id == batch_id, BatchItem.state.in_(list(states)))
        )
        return int(count or 0)


def _list_more(ctx: BatchContext, batch: Batch) -> int:
    page_size = ctx.settings.batch_list_page_size
    # a page more only once every listed object has its task: the lookahead stays one page
    if batch.source_exhausted or _waiting(ctx, batch.id, ItemState.pending):
        return 0
    page = list_page(ctx, batch, page_size)
    return record_page(ctx.db, batch.id, batch.cursor, page, ctx.settings.max_upload_bytes)


def _source_failed(ctx: BatchContext, batch_id: str, exc: OcrpError) -> None:
    with session_scope(ctx.db) as session:
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id)
            .values(source_exhausted=True, error_code=exc.code, error_message=exc.message[:4000])
        )
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.status == BatchStatus.expanding)
            .values(status=BatchStatus.running)
        )


def _finish_if_done(ctx: BatchContext, batch: Batch, run_token: str, log: EventLogger) -> bool:
    if not (batch.source_exhausted or batch.cancel_requested):
        return False
    if _waiting(ctx, batch.id, ItemState.pending, ItemState.submitted, ItemState.retry):
        return False
    key = write_manifest(ctx, batch)
    final = (
        BatchStatus.canceled
        if batch.cancel_requested
        else BatchStatus.failed
        if batch.error_code
        else BatchStatus.completed
    )
    with session_scope(ctx.db) as session:
        stored = session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.expand_token == run_token, Batch.status.in_(_ACTIVE))
            .values(status=final, finished_at=utcnow(), manifest_key=key, expand_token=None)
        )
        if stored.rowcount != 1:  # type: ignore[attr-defined]
            return True
    ctx.cache.drop(batch.id)
    log.info("batch.finished", status=final, manifest=key)
    # hooks run only once the final state is committed (the batch.completed webhook)
    for hook in ctx.hooks:
        try:
            hook(batch.id, final)
        except Exception:
            log.exception("batch.hook.failed", hook=getattr(hook, "__name__", repr(hook)))
    return True


def _rearm(ctx: BatchContext, batch_id: str, run_token: str, delay: float) -> None:
    token = secrets.token_hex(8)
    with session_scope(ctx.db) as session:
        moved = session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.expand_token == run_token, Batch.status.in_(_ACTIVE))
            .values(expand_token=token)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return  # canceled, retried or re-armed by the watchdog: that chain carries on
    enqueue_expand(ctx.app, batch_id, token, countdown=delay)


def _rounds(ctx: BatchContext, batch_id: str, run_token: str, log: EventLogger) -> bool:
    """The steps of one run; True when the batch is finished (nothing to re-arm)."""
    batch = _reload(ctx, batch_id, run_token)
    if batch is None:
        return True
    if batch.cancel_requested:
        with session_scope(ctx.db) as session:
            stop_batch_work(session, batch_id, utcnow())
    for _ in range(ROUNDS_PER_RUN):
        settled = settle(ctx, batch)
        listed = 0 if batch.cancel_requested else _list_more(ctx, batch)
        sent = 0 if batch.cancel_requested else submit(ctx, batch_id)
        if settled or listed or sent:
            log.info("batch.expanded", settled=settled, listed=listed, sent=sent)
        batch = _reload(ctx, batch_id, run_token)
        if batch is None:
            return True
        if not (listed or sent) or batch.cancel_requested:
            break
    return _finish_if_done(ctx, batch, run_token, log)


def expand(ctx: BatchContext, batch_id: str, token: str) -> None:
    log = get_logger(__name__, batch_id=batch_id)
    claimed = _claim(ctx, batch_id, token)
    if claimed is None:
        log.debug("batch.expand.skipped")
        return
    _, run_token = claimed
    delay = ctx.settings.batch_expand_interval_s
    try:
        if _rounds(ctx, batch_id, run_token, log):
            return
    except OcrpError as exc:
        if exc.retryable:
            log.warning("batch.expand.retry", code=exc.code, message=exc.message)
            delay = max(delay, RETRY_DELAY_S)
        else:
            log.warning("batch.source.failed", code=exc.code, message=exc.message)
            _source_failed(ctx, batch_id, exc)
    except Exception:
        log.exception("batch.expand.crashed")
        delay = max(delay, RETRY_DELAY_S)
    _rearm(ctx, batch_id, run_token, delay)
