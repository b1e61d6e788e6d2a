"""Record a listed page as batch items and move the cursor, in one transaction.

The cursor only moves from the value the page was listed from, and the unique
`(batch_id, source_key)` refuses an item recorded before: a page listed twice (a crash between
listing and commit, or two expansion runs racing) is recorded once.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shared.batches.sources import source_key
from shared.clock import utcnow
from shared.db.models import Batch, BatchItem, BatchStatus, ItemState, ItemStatus
from shared.db.session import session_scope
from worker.batches.listing import Listed, ListPage


def _row(batch_id: str, listed: Listed, max_bytes: int) -> BatchItem:
    skip, message = listed.skip, listed.skip_message
    if skip is None and listed.size is not None and listed.size > max_bytes:
        skip, message = "document_too_large", f"the object is larger than {max_bytes:,} bytes"
    now = utcnow()
    return BatchItem(
        batch_id=batch_id,
        source_key=source_key(listed.key),
        source_ref=listed.ref,
        position=listed.position,
        size_bytes=listed.size,
        state=ItemState.done if skip else ItemState.pending,
        status=ItemStatus.skipped if skip else None,
        error_code=skip,
        error_message=message,
        created_at=now,
        settled_at=now if skip else None,
    )


def record_page(
    database_url: str, batch_id: str, listed_from: str | None, page: ListPage, max_bytes: int
) -> int:
    """Returns how many new items were recorded (0 when another run got there first)."""
    try:
        with session_scope(database_url) as session:
            moved = session.execute(
                update(Batch)
                .where(Batch.id == batch_id, func.coalesce(Batch.cursor, "") == (listed_from or ""))
                .values(cursor=page.cursor)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            keys = [source_key(listed.key) for listed in page.items]
            known = set(
                session.scalars(
                    select(BatchItem.source_key).where(
                        BatchItem.batch_id == batch_id, BatchItem.source_key.in_(keys)
                    )
                )
            )
            rows = [_row(batch_id, listed, max_bytes) for listed in page.items]
            fresh = [row for row in rows if row.source_key not in known]
            session.add_all(fresh)
            skipped = sum(1 for row in fresh if row.status == ItemStatus.skipped)
            values: dict[str, object] = {
                "items_listed": Batch.items_listed + len(fresh),
                "settled_skipped": Batch.settled_skipped + skipped,
            }
            if page.exhausted:
                values["source_exhausted"] = True
                values["source_total"] = func.coalesce(Batch.source_total, Batch.items_listed + len(fresh))
            session.execute(update(Batch).where(Batch.id == batch_id).values(**values))
            if page.exhausted:
                session.execute(
                    update(Batch)
                    .where(Batch.id == batch_id, Batch.status == BatchStatus.expanding)
                    .values(status=BatchStatus.running)
                )
            return len(fresh)
    except IntegrityError:
        return 0
