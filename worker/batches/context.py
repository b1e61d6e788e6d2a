"""What an expansion run needs: settings, storage, the Celery app, an S3 client for sources and
output prefixes, the local archive cache, and the hooks run when a batch finishes. Built once
per worker process; it never loads an OCR engine, so maintenance-only workers stay small."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from celery import Celery

from shared.config import Settings
from shared.storage import Storage
from worker.batches.archive_cache import ArchiveCache

BatchHook = Callable[[str, str], None]  # (batch id, final status), after it is committed


@dataclass
class BatchContext:
    settings: Settings
    storage: Storage
    app: Celery
    cache: ArchiveCache
    hooks: list[BatchHook] = field(default_factory=list)

    @cached_property
    def s3(self) -> Any:
        from shared.storage.s3 import make_s3_client

        return make_s3_client(self.settings)

    @property
    def db(self) -> str:
        return self.settings.database_url
