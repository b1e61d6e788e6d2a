"""The storage interface both sides use. Keys are `/`-separated relative paths (see `keys.py`).

Every backend raises only the storage errors of the one error tree (`shared.errors`):

    StorageError            any storage failure
    ├── ObjectNotFound      the key does not exist (404 object_missing; permanent)
    └── StorageUnavailable  the backend failed (503 storage_unavailable; retry it)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from shared.errors import ObjectNotFound, StorageError, StorageUnavailable

__all__ = ["ObjectNotFound", "Storage", "StorageError", "StorageUnavailable"]


class Storage(Protocol):
    """What the API and the workers need from object storage, and nothing more."""

    name: str

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> int:
        """Stream `fileobj` to `key` (multipart on S3); returns the bytes written."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """Stream an object; raises ObjectNotFound before the first chunk when it is missing."""
        ...

    def download_to(self, key: str, path: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix`, in lexical order."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under `prefix`; returns how many were deleted."""
        ...

    def presign_get(self, key: str, expires_s: int, filename: str | None = None) -> str | None:
        """A time-limited direct download URL, or None where the backend has none (local)."""
        ...

    def check(self) -> None:
        """Raise StorageUnavailable unless the backend is reachable and writable."""
        ...
