"""The lines of a batch's manifest.jsonl, one JSON object per source object, read from the
database a page of rows at a time (so a million-line manifest never sits in memory).

    {"source": "s3://in/scans/a.pdf", "item": 17, "status": "succeeded", "task_id": "tsk_...",
     "pages": 3, "sha256": "...", "reused_from": null,
     "result": {"markdown": "tasks/tsk_.../results/full.md", "layout": ".../layout.json"},
     "output": {"markdown": "s3://out/p/a.md", "layout": "s3://out/p/a.layout.json"},
     "error": null}

The worker writes the whole file when the batch ends (`worker.batches.manifest`); while it
runs, the API streams the lines of the objects settled so far (`settled_only`), each of them
final, so the list only grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from shared.batches.sources import source_label
from shared.db.models import Batch, BatchItem, ItemState, Task
from shared.db.session import session_scope

PAGE = 1000


def manifest_line(batch: Batch, item: BatchItem, task: Task | None) -> dict[str, Any]:
    code = item.error_code or (task.error_code if task is not None and item.status != "succeeded" else None)
    message = item.error_message or (task.error_message if task is not None else None)
    keys = task.result_keys if task is not None and task.status == "succeeded" else None
    return {
        "source": source_label(batch.source_kind, batch.source_uri, item.source_ref),
        "item": item.id,
        "status": item.status,
        "task_id": item.task_id,
        "pages": item.pages,
        "sha256": task.sha256 if task is not None else None,
        "reused_from": task.reused_from if task is not None else None,
        "result": {"markdown": keys.get("markdown"), "layout": keys.get("layout")} if keys else None,
        "output": item.output,
        "error": {"code": code, "message": message or ""} if code else None,
    }


def manifest_lines(database_url: str, batch: Batch, settled_only: bool = False) -> Iterator[str]:
    """The manifest's lines in source order, each in a short session of its own."""
    after = 0
    while True:
        with session_scope(database_url) as session:
            query = (
                select(BatchItem, Task)
                .outerjoin(Task, Task.id == BatchItem.task_id)
                .where(BatchItem.batch_id == batch.id, BatchItem.id > after)
            )
            if settled_only:
                query = query.where(BatchItem.state == ItemState.done)
            rows = session.execute(query.order_by(BatchItem.id).limit(PAGE)).all()
            lines = [json.dumps(manifest_line(batch, item, task), ensure_ascii=False) for item, task in rows]
        if not rows:
            return
        after = rows[-1][0].id
        yield from lines
