"""manifest.jsonl: one JSON line per source object (`shared.batches.manifest`), written when
the batch ends.

`status` is succeeded, failed, canceled or skipped; `error` holds `{code, message}` for the
last three (and for a succeeded object whose output could not be written). Lines follow the
source order. The file is built on local disk a page of rows at a time, then streamed to
storage, so a million-line manifest never sits in memory.
"""

from __future__ import annotations

import os
import tempfile

from shared.batches.keys import manifest_key
from shared.batches.manifest import manifest_lines
from shared.db.models import Batch
from worker.batches.context import BatchContext
from worker.batches.mirror import upload_manifest


def write_manifest(ctx: BatchContext, batch: Batch) -> str:
    """Write the manifest to storage (and the output prefix); returns its storage key."""
    key = manifest_key(batch.id)
    fd, path = tempfile.mkstemp(prefix="ocrp-manifest-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in manifest_lines(ctx.db, batch):
                out.write(line + "\n")
        with open(path, "rb") as handle:
            ctx.storage.put_file(key, handle, "application/x-ndjson")
        if batch.output_prefix:
            upload_manifest(ctx.s3, batch, path)
    finally:
        os.unlink(path)
    return key
