"""manifest.jsonl: one JSON line per source object, written when the batch ends.

    {"source": "s3://in/scans/a.pdf", "item": 17, "status": "succeeded", "task_id": "tsk_...",
     "pages": 3, "sha256": "...", "reused_from": null,
     "result": {"markdown": "tasks/tsk_.../results/full.md", "layout": ".../layout.json"},
     "output": {"markdown": "s3://out/p/a.md", "layout": "s3://out/p/a.layout.json"},
     "error": null}

`status` is succeeded, failed, canceled or skipped; `error` holds `{code, message}` for the
last three (and for a succeeded object whose output could not be written). Lines follow the
source order. The file is built on local disk a page of rows at a time, then streamed to
storage, so a million-line manifest never sits in memory.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from shared.batches.keys import manifest_key
from shared.batches.sources import source_label
from shared.db.models import Batch, BatchItem, Task
from shared.db.session import session_scope
from worker.batches.context import BatchContext
from worker.batches.mirror import upload_manifest

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


def _lines(ctx: BatchContext, batch: Batch) -> Iterator[str]:
    after = 0
    while True:
        with session_scope(ctx.db) as session:
            rows = session.execute(
                select(BatchItem, Task)
                .outerjoin(Task, Task.id == BatchItem.task_id)
                .where(BatchItem.batch_id == batch.id, BatchItem.id > after)
                .order_by(BatchItem.id)
                .limit(PAGE)
            ).all()
            lines = [json.dumps(manifest_line(batch, item, task), ensure_ascii=False) for item, task in rows]
        if not rows:
            return
        after = rows[-1][0].id
        yield from lines


def write_manifest(ctx: BatchContext, batch: Batch) -> str:
    """Write the manifest to storage (and the output prefix); returns its storage key."""
    key = manifest_key(batch.id)
    fd, path = tempfile.mkstemp(prefix="ocrp-manifest-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in _lines(ctx, batch):
                out.write(line + "\n")
        with open(path, "rb") as handle:
            ctx.storage.put_file(key, handle, "application/x-ndjson")
        if batch.output_prefix:
            upload_manifest(ctx.s3, batch, path)
    finally:
        os.unlink(path)
    return key
