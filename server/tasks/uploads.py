"""Uploaded documents: staged on local disk while streaming (never whole in memory), hashed and
size-checked on the way, inspected, and only then written to storage.

The multipart body is already capped while it streams (the router's `max_body_size`); the file
part is capped again here, by its own size, because the body also holds the form fields.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from shared.documents.inspect import DocumentInfo, Limits, inspect_document
from shared.errors import PayloadTooLarge

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StagedFile:
    path: str
    size: int
    sha256: str
    info: DocumentInfo


@contextmanager
def staging_file() -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="ocrp-upload-")
    os.close(fd)
    try:
        yield path
    finally:
        os.unlink(path)


def copy_capped(source: BinaryIO, path: str, max_bytes: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the file is larger than the limit of {max_bytes:,} bytes")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


async def stage_upload(upload: UploadFile, path: str, max_bytes: int, limits: Limits) -> StagedFile:
    # Starlette has already spooled the part to a temporary file; copy it where we can open it
    # by path (PyMuPDF), hashing and counting on the way, off the event loop
    await upload.seek(0)
    size, digest = await run_in_threadpool(copy_capped, upload.file, path, max_bytes)
    info = await run_in_threadpool(inspect_document, path, limits)
    return StagedFile(path=path, size=size, sha256=digest, info=info)
