"""Uploaded batch sources: a zip or tar archive, or a text file of URLs.

The file is staged on local disk while it streams in (capped and hashed on the way), then
judged by its content: an archive is scanned once against every safety rule before anything
is stored, so a bomb or a traversal archive is refused with a 4xx and never reaches a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from server.tasks.uploads import copy_capped
from shared.archives import ArchiveFormat, Member, scan_archive, sniff_archive
from shared.archives.formats import SNIFF_BYTES
from shared.batches.sources import archive_limits, parse_url_list
from shared.config import Settings
from shared.errors import UnsupportedMediaType

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StagedSource:
    path: str
    size: int
    sha256: str
    archive: ArchiveFormat | None = None
    members: list[Member] | None = None
    urls: list[str] | None = None


def _read_url_list(path: str, settings: Settings) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = handle.read().splitlines()
    except UnicodeDecodeError:
        lines = []
    first = next((line.strip() for line in lines if line.strip() and not line.startswith("#")), "")
    if not first.lower().startswith(("http://", "https://")):
        raise UnsupportedMediaType(
            "the file is neither a zip or tar archive nor a text list of http(s) URLs "
            "(judged by its content, not its name)",
            "unsupported_source_file",
        )
    return parse_url_list(lines, settings.batch_max_urls)


def judge_source(path: str, size: int, digest: str, settings: Settings) -> StagedSource:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    fmt = sniff_archive(head)
    if fmt is None:
        return StagedSource(path, size, digest, urls=_read_url_list(path, settings))
    members = scan_archive(path, fmt, size, archive_limits(settings))
    return StagedSource(path, size, digest, archive=fmt, members=members)


async def stage_source(upload: UploadFile, path: str, settings: Settings) -> tuple[int, str]:
    await upload.seek(0)
    return await run_in_threadpool(copy_capped, upload.file, path, settings.batch_max_upload_bytes)
