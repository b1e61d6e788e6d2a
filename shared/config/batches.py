"""Batch backfill settings: pacing, bounds on work in flight, archive limits."""

from __future__ import annotations

from pydantic import BaseModel

from shared.config.fields import setting


class BatchSettings(BaseModel):
    batch_max_in_flight: int = setting(
        200,
        "Tasks of one batch queued or running at once; expansion creates more only as they finish.",
        "batches",
    )
    batch_owner_max_in_flight: int = setting(
        1000,
        "Batch tasks of one owner queued or running at once, across all of the owner's batches.",
        "batches",
    )
    batch_list_page_size: int = setting(
        200,
        "Source objects listed per expansion step (S3 keys, URLs or archive members). A page is "
        "listed only once every listed object has its task, so listing stays a page ahead at most.",
        "batches",
    )
    batch_expand_interval_s: float = setting(
        2.0, "Pause between two expansion runs of an active batch, in seconds.", "batches"
    )
    batch_stalled_after_s: float = setting(
        60.0,
        "An active batch whose expansion has not run for this long is re-armed by the periodic "
        "watchdog (covers expansion messages lost with a killed worker).",
        "batches",
    )
    batch_max_urls: int = setting(1_000_000, "Most URLs one batch may list.", "batches")
    batch_max_upload_bytes: int = setting(
        4 * 1024 * 1024 * 1024,
        "Largest uploaded archive or URL list, in bytes (413).",
        "batches",
    )
    archive_max_members: int = setting(
        100_000, "Most entries an uploaded archive may hold (422 `archive_too_many_members`).", "batches"
    )
    archive_max_uncompressed_bytes: int = setting(
        20 * 1024 * 1024 * 1024,
        "Most bytes an archive may expand to, summed over its entries (422 `archive_too_large`).",
        "batches",
    )
    archive_max_ratio: int = setting(
        100,
        "Highest compression ratio of an archive entry (or of a compressed tar as a whole) before "
        "it is refused as a zip bomb (422 `archive_bomb`).",
        "batches",
    )
