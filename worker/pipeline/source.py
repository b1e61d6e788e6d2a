"""Get a task's document onto local disk, and into storage when it came by URL or S3 location.

Uploads are already in storage. URL and S3 sources are fetched here, on the worker, so that the
API stays thin; the fetched file then goes through the same inspection as an upload.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from shared.config import Settings
from shared.documents.inspect import Limits, inspect_document
from shared.documents.sniff import DocumentType
from shared.errors import DocumentError, InvalidRequest, PayloadTooLarge, TransientError
from shared.outbound.client import HopLimits, OutboundClient
from shared.outbound.pace import MinimumRate, TooSlow
from shared.storage import Storage
from shared.storage.keys import input_key
from shared.urls import Resolver, parse_allowlist, parse_s3_uri, resolve
from worker.pipeline.store import TaskSnapshot, TaskStore

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LocalInput:
    path: str
    type: DocumentType
    page_count: int


def limits_of(settings: Settings) -> Limits:
    return Limits(max_pages=settings.max_pages, max_image_pixels=settings.max_image_pixels)


def materialize(
    snapshot: TaskSnapshot, storage: Storage, settings: Settings, store: TaskStore, workdir: str
) -> LocalInput:
    path = os.path.join(workdir, "input")
    if snapshot.input_key:
        storage.download_to(snapshot.input_key, path)  # a missing input fails the task; an outage retries it
        info = inspect_document(path, limits_of(settings))
        return LocalInput(path, info.type, info.page_count)

    if snapshot.source_kind == "url":
        assert snapshot.source_uri is not None
        digest, size = download_url(snapshot.source_uri, path, settings)
    elif snapshot.source_kind == "s3":
        assert snapshot.source_uri is not None
        digest, size = download_s3(snapshot.source_uri, path, settings)
    else:
        raise DocumentError("the task has no input", "input_missing")

    info = inspect_document(path, limits_of(settings))
    key = input_key(snapshot.id, info.type.extension)
    with open(path, "rb") as handle:
        storage.put_file(key, handle, info.type.content_type)
    store.record_input(
        snapshot.id,
        content_type=info.type.content_type,
        size=size,
        sha256=digest,
        input_key=key,
        page_count=info.page_count,
    )
    return LocalInput(path, info.type, info.page_count)


def download_url(url: str, path: str, settings: Settings, resolver: Resolver = resolve) -> tuple[str, int]:
    """Stream `url` to `path` through the outbound client (`shared.outbound`: every hop and
    connection checked), with a size cap, a total deadline and a minimum rate."""
    limits = HopLimits(
        max_redirects=settings.fetch_max_redirects,
        timeout=httpx.Timeout(settings.fetch_timeout_s, connect=10.0),
        deadline_s=settings.fetch_deadline_s,
    )
    started = time.monotonic()
    with OutboundClient(parse_allowlist(settings.url_allowlist), resolver) as client:
        try:
            with client.open("GET", url, limits) as response:
                return _save(response, path, settings)
        except TooSlow as exc:
            raise TransientError(f"downloading the URL was too slow: {exc}", "fetch_too_slow") from exc
        except httpx.TimeoutException as exc:
            raise TransientError(_timeout_message(settings, started), "fetch_timeout") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"downloading the URL failed: {exc}", "fetch_failed") from exc


def _timeout_message(settings: Settings, started: float) -> str:
    if time.monotonic() - started >= settings.fetch_deadline_s:
        return f"downloading the URL took longer than OCR_FETCH_DEADLINE_S ({settings.fetch_deadline_s:g}s)"
    return f"the URL's server did not answer within OCR_FETCH_TIMEOUT_S ({settings.fetch_timeout_s:g}s)"


def _save(response: httpx.Response, path: str, settings: Settings) -> tuple[str, int]:
    host = response.request.url.host
    if response.is_redirect:
        raise InvalidRequest(f"more than {settings.fetch_max_redirects} redirects", "too_many_redirects")
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"{host} answered {response.status_code}", "fetch_failed")
    if response.status_code != 200:
        message = f"downloading the URL failed: {host} answered {response.status_code}"
        raise InvalidRequest(message, "fetch_failed")
    floor = MinimumRate(settings.fetch_min_bytes_per_s, settings.fetch_rate_window_s, time.monotonic())
    with open(path, "wb") as out:
        return _copy_capped(_paced(response.iter_bytes(), floor), out, settings.max_upload_bytes)


def _paced(chunks: Iterator[bytes], floor: MinimumRate) -> Iterator[bytes]:
    for chunk in chunks:
        floor.observe(len(chunk), time.monotonic())
        yield chunk


def download_s3(uri: str, path: str, settings: Settings) -> tuple[str, int]:
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.storage.s3 import make_s3_client

    bucket, key = parse_s3_uri(uri)
    client = make_s3_client(settings)
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("NoSuchKey", "404", "NoSuchBucket", "NotFound"):
            raise InvalidRequest(f"no object at {uri}", "source_not_found") from exc
        if code in ("AccessDenied", "403"):
            raise InvalidRequest(f"access to {uri} was denied", "source_forbidden") from exc
        raise TransientError(f"reading {uri} failed: {exc}", "storage_unavailable") from exc
    except BotoCoreError as exc:
        raise TransientError(f"reading {uri} failed: {exc}", "storage_unavailable") from exc
    try:
        with open(path, "wb") as out:
            return _copy_capped(body.iter_chunks(_CHUNK), out, settings.max_upload_bytes)
    finally:
        body.close()


def _copy_capped(chunks: object, out: BinaryIO, limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:  # type: ignore[attr-defined]
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the document is larger than {limit:,} bytes", "payload_too_large")
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ocrp-task-")
