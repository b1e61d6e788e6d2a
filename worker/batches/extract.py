"""Copy one archive member into storage as a task's input, judged by its content.

The member is read as a stream and written under `tasks/{task_id}/input.{ext}`: its name never
becomes a path anywhere. A member that is itself an archive, or not a supported document, is
skipped with its reason instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from shared.archives import ArchiveReader, ArchiveRefused, looks_like_archive
from shared.archives.readers import READ_ERRORS
from shared.documents.sniff import SNIFF_BYTES, sniff_type
from shared.errors import DocumentError
from shared.storage import Storage
from shared.storage.keys import input_key


@dataclass(frozen=True)
class Extracted:
    input_key: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A member that becomes no task: skipped (not a document), or failed (a damaged one)."""

    code: str
    message: str
    failed: bool = False


class _HashingReader:
    """Replays the sniffed head, then the rest of the member; hashes and caps on the way."""

    def __init__(self, head: bytes, rest: IO[bytes], limit: int) -> None:
        self.head, self.rest, self.limit = head, rest, limit
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        if self.head:
            data, self.head = self.head, b""
        else:
            try:
                data = self.rest.read(size)
            except READ_ERRORS as exc:  # e.g. a declared size or CRC that does not match the data
                raise DocumentError(
                    f"the archive member cannot be read: {type(exc).__name__}: {exc}"[:300],
                    "member_corrupt",
                ) from exc
        self.count += len(data)
        if self.count > self.limit:
            raise DocumentError(f"the member is larger than {self.limit:,} bytes", "member_too_large")
        self.digest.update(data)
        return data


def extract_member(
    reader: ArchiveReader, index: int, task_id: str, storage: Storage, limit: int
) -> Extracted | Skipped:
    """The member copied into storage, or why it is not: a damaged member (bad sizes or CRC,
    larger than its directory said) is a failed entry, and the batch goes on without it."""
    try:
        return _copy(reader, index, task_id, storage, limit)
    except DocumentError as exc:
        return Skipped(exc.code, exc.message, failed=True)


def _copy(
    reader: ArchiveReader, index: int, task_id: str, storage: Storage, limit: int
) -> Extracted | Skipped:
    try:
        handle = reader.open(index)
        head = handle.read(SNIFF_BYTES)
    except (ArchiveRefused, *READ_ERRORS) as exc:
        raise DocumentError(
            f"the archive member cannot be read: {type(exc).__name__}", "member_corrupt"
        ) from exc
    with handle:
        if looks_like_archive(head):
            return Skipped("member_nested_archive", "archives inside the archive are not opened")
        kind = sniff_type(head)
        if kind is None:
            return Skipped("member_not_document", "not a PDF, PNG, JPEG, TIFF or WebP document (by content)")
        stream = _HashingReader(head, handle, limit)
        key = input_key(task_id, kind.extension)
        try:
            storage.put_file(key, stream, kind.content_type)  # type: ignore[arg-type]
        except DocumentError:
            storage.delete(key)  # whatever part of it was written
            raise
    return Extracted(key, kind.content_type, stream.count, stream.digest.hexdigest())
