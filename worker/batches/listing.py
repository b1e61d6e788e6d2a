"""List the next page of a batch's source, from its persisted cursor.

    s3       ListObjectsV2 after the last key seen (`StartAfter`): keys come in lexical order,
             so the last key is a cursor that stays valid forever, unlike a continuation token
    urls     the index of the next URL in the stored list (chunks of URL_CHUNK)
    archive  the index of the next member in the archive's member list

Every listed object gets a `key` unique within its batch; the unique constraint on it makes
listing the same page twice (after a crash) harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.archives import ArchiveFormat
from shared.batches.keys import URL_CHUNK, url_chunk_key
from shared.batches.sources import matches_glob, parse_s3_prefix
from shared.db.models import Batch, BatchSourceKind
from shared.errors import OcrpError, TransientError
from shared.storage import Storage
from worker.batches.archive_cache import ArchiveCache
from worker.batches.context import BatchContext

# S3 pages read in one step while a glob matches nothing, before yielding to the next run
S3_PAGES_PER_STEP = 5


class SourceFailed(OcrpError):
    """The source can no longer be read (bucket gone, access revoked, archive unreadable): the
    batch stops listing and ends `failed` once what was already queued has finished."""

    status = 422


@dataclass(frozen=True)
class Listed:
    ref: str  # S3 key, URL or member name
    key: str  # what makes it unique within the batch
    position: int
    size: int | None = None
    skip: str | None = None
    skip_message: str | None = None


@dataclass(frozen=True)
class ListPage:
    items: list[Listed]
    cursor: str
    exhausted: bool


def _s3_error(exc: Exception, uri: str) -> Exception:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("NoSuchBucket", "404", "NotFound"):
            return SourceFailed(f"{uri} no longer exists", "source_not_found")
        if code in ("AccessDenied", "403", "Forbidden"):
            return SourceFailed(f"access to {uri} was denied", "source_forbidden")
    return TransientError(f"listing {uri} failed: {exc}", "storage_unavailable")


def list_s3(client: Any, batch: Batch, page_size: int) -> ListPage:
    assert batch.source_uri is not None
    source = parse_s3_prefix(batch.source_uri, "s3_prefix")
    after = batch.cursor or ""
    items: list[Listed] = []
    position = batch.items_listed
    for _ in range(S3_PAGES_PER_STEP):
        request: dict[str, Any] = {"Bucket": source.bucket, "Prefix": source.prefix, "MaxKeys": page_size}
        if after:
            request["StartAfter"] = after
        try:
            page = client.list_objects_v2(**request)
        except (BotoCoreError, ClientError) as exc:
            raise _s3_error(exc, source.uri) from exc
        for obj in page.get("Contents", []):
            key = str(obj["Key"])
            after = key
            if key.endswith("/") or not matches_glob(source.relative(key), batch.source_glob):
                continue  # folder markers, and keys the glob leaves out
            items.append(Listed(key, key, position, int(obj.get("Size", 0))))
            position += 1
        if not page.get("IsTruncated"):
            return ListPage(items, after, exhausted=True)
        if items:
            break
    return ListPage(items, after, exhausted=False)


def list_urls(storage: Storage, batch: Batch, page_size: int) -> ListPage:
    start = int(batch.cursor or 0)
    total = batch.source_total or 0
    end = min(start + page_size, total)
    items: list[Listed] = []
    for chunk in range(start // URL_CHUNK, (max(end, 1) - 1) // URL_CHUNK + 1):
        lines = storage.get_bytes(url_chunk_key(batch.id, chunk)).decode().splitlines()
        for offset, url in enumerate(lines):
            position = chunk * URL_CHUNK + offset
            if start <= position < end:
                items.append(Listed(url, url, position))
    return ListPage(items, str(end), exhausted=end >= total)


def list_archive(storage: Storage, cache: ArchiveCache, batch: Batch, page_size: int) -> ListPage:
    assert batch.source_object is not None
    assert batch.source_format is not None
    try:
        members = cache.members(storage, batch.id, batch.source_object, ArchiveFormat(batch.source_format))
    except OcrpError as exc:
        if exc.retryable:
            raise
        raise SourceFailed(exc.message, exc.code) from exc
    start = int(batch.cursor or 0)
    chunk = members[start : start + page_size]
    items = [
        # the entry index is part of the key: an archive may hold one name twice
        Listed(m.name, f"#{m.index}:{m.name}", m.index, m.size, m.skip, m.skip_message)
        for m in chunk
    ]
    end = start + len(chunk)
    return ListPage(items, str(end), exhausted=end >= len(members))


def list_page(ctx: BatchContext, batch: Batch, page_size: int) -> ListPage:
    if batch.source_kind == BatchSourceKind.s3:
        return list_s3(ctx.s3, batch, page_size)
    if batch.source_kind == BatchSourceKind.urls:
        return list_urls(ctx.storage, batch, page_size)
    return list_archive(ctx.storage, ctx.cache, batch, page_size)
