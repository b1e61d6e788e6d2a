"""Re-arm batches whose chain of expansion runs died (its message was held by a killed worker,
or sending it failed), and prune old local archive copies. Runs on Celery beat."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from shared.clock import utcnow
from shared.db.models import ACTIVE_BATCH_STATUSES, Batch
from shared.db.session import session_scope
from shared.logs import get_logger
from shared.queue import enqueue_expand
from worker.batches.context import BatchContext

log = get_logger(__name__)
ARCHIVE_CACHE_MAX_AGE_S = 24 * 3600
BATCH = 100


def rearm_stalled(ctx: BatchContext) -> dict[str, int]:
    cutoff = utcnow() - timedelta(seconds=ctx.settings.batch_stalled_after_s)
    armed: list[tuple[str, str]] = []
    with session_scope(ctx.db) as session:
        stalled = session.scalars(
            select(Batch)
            .where(
                Batch.status.in_(list(ACTIVE_BATCH_STATUSES)),
                func.coalesce(Batch.expand_heartbeat_at, Batch.created_at) < cutoff,
            )
            .limit(BATCH)
        ).all()
        for batch in stalled:
            # a new token retires whatever old chain might still be alive
            batch.expand_token = secrets.token_hex(8)
            batch.expand_heartbeat_at = utcnow()
            armed.append((batch.id, batch.expand_token))
    for batch_id, token in armed:
        log.warning("batch.rearmed", batch_id=batch_id)
        enqueue_expand(ctx.app, batch_id, token)
    pruned = ctx.cache.prune(ARCHIVE_CACHE_MAX_AGE_S)
    return {"rearmed": len(armed), "archives_pruned": pruned}
