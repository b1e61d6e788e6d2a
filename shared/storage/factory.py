from __future__ import annotations

from typing import TYPE_CHECKING

from shared.storage.base import Storage

if TYPE_CHECKING:
    from shared.config import Settings


def make_storage(settings: Settings) -> Storage:
    """A new storage client; callers keep one for their lifetime (app state, worker process)."""
    if settings.storage_backend == "s3":
        from shared.storage.s3 import S3Storage, make_s3_client

        return S3Storage(
            make_s3_client(settings),
            settings.s3_bucket,
            chunk_mb=settings.s3_multipart_chunk_mb,
            create_bucket=settings.s3_create_bucket,
        )
    from shared.storage.local import LocalStorage

    assert settings.storage_dir is not None
    return LocalStorage(settings.storage_dir)
