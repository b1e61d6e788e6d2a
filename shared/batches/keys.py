"""Where a batch's own objects live. Task inputs and results stay under `tasks/{task_id}/`.

batches/{batch_id}/source/archive              the uploaded zip or tar, as received
batches/{batch_id}/source/urls-{chunk:06d}.txt  a URL list, URL_CHUNK URLs a file
batches/{batch_id}/manifest.jsonl              one line per source object, at the end
"""

from __future__ import annotations

# URL lists are stored in chunks so that the expander reads one small object per page
# instead of scanning a list of a million lines from its start
URL_CHUNK = 1000


def batch_prefix(batch_id: str) -> str:
    return f"batches/{batch_id}/"


def archive_key(batch_id: str) -> str:
    return f"batches/{batch_id}/source/archive"


def url_chunk_key(batch_id: str, chunk: int) -> str:
    return f"batches/{batch_id}/source/urls-{chunk:06d}.txt"


def manifest_key(batch_id: str) -> str:
    return f"batches/{batch_id}/manifest.jsonl"
