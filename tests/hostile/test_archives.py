"""Hostile archives: a tar.gz whose bomb sits after the tar's end marker (counted neither at
submit nor during expansion before), and a zip member whose declared size does not match its
data (crashed the expander every 10 s, the batch stuck `running`)."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from pathlib import Path

import pytest

from shared.archives import ArchiveFormat, ArchiveLimits, ArchiveRefused
from shared.storage.local import LocalStorage
from tests.fixtures.documents import tar_bytes, tiny_pdf, zip_bytes
from tests.fixtures.stack import Stack
from tests.hostile.worker_stack import manifest, wait_batch, worker_stack

__all__ = ["worker_stack"]
pytestmark = pytest.mark.slow
ZEROS_AFTER_END = 40 * 1024 * 1024
LIMITS = ArchiveLimits(max_members=100, max_total_bytes=20 * 1024**3, max_ratio=100, max_member_bytes=10**8)


def tail_bomb() -> bytes:
    """A valid tar.gz of one small PDF, followed (inside the gzip stream) by 40 MiB of zeros
    after the tar's end marker: about 1000:1 in all."""
    plain = tar_bytes([("letter.pdf", tiny_pdf("Dear reader"))]) + bytes(ZEROS_AFTER_END)
    return gzip.compress(plain, compresslevel=9)


def lying_zip(data: bytes, declared: int) -> bytes:
    """A zip whose single member `liar.pdf` declares `declared` bytes (local and central headers)."""
    raw = bytearray(zip_bytes([("liar.pdf", data)], zipfile.ZIP_STORED))
    struct.pack_into("<I", raw, raw.index(b"PK\x03\x04") + 22, declared)
    struct.pack_into("<I", raw, raw.index(b"PK\x01\x02") + 24, declared)
    return bytes(raw)


def test_a_tar_gz_with_zeros_after_its_end_marker_is_refused_at_submit(worker_stack: Stack) -> None:
    bomb = tail_bomb()
    assert len(bomb) * 200 < ZEROS_AFTER_END, "the test archive really is a bomb"
    response = worker_stack.api.post("/v1/batches/upload", files={"file": ("b.tar.gz", bomb)})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "archive_bomb"


def test_expansion_stops_at_the_ratio_and_leaves_no_inflated_copy(tmp_path: Path) -> None:
    """The worker's own check, for archives that got past submit (an older API, a changed limit)."""
    from worker.batches.archive_cache import ArchiveCache

    storage = LocalStorage(tmp_path / "store")
    storage.put_bytes("batches/b1/source.tar.gz", tail_bomb())
    cache = ArchiveCache(tmp_path / "cache", LIMITS)
    with pytest.raises(ArchiveRefused) as refused:
        cache.members(storage, "b1", "batches/b1/source.tar.gz", ArchiveFormat.tar_gz)
    assert refused.value.code == "archive_bomb"
    written = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert written < len(tail_bomb()) + 8 * 1024 * 1024, "only the download itself is left"


def test_a_tar_gz_within_the_ratio_still_expands(tmp_path: Path) -> None:
    from worker.batches.archive_cache import ArchiveCache

    storage = LocalStorage(tmp_path / "store")
    storage.put_bytes(
        "k.tar.gz", gzip.compress(tar_bytes([("a.pdf", tiny_pdf("A")), ("b.pdf", tiny_pdf("B"))]))
    )
    members = ArchiveCache(tmp_path / "cache", LIMITS).members(
        storage, "b2", "k.tar.gz", ArchiveFormat.tar_gz
    )
    assert [m.name for m in members] == ["a.pdf", "b.pdf"]


def test_a_zip_member_with_a_lying_size_fails_alone_and_the_batch_finishes(worker_stack: Stack) -> None:
    pdf = tiny_pdf("Liar")
    buffer = io.BytesIO(lying_zip(pdf, len(pdf) // 2))
    # the lying member plus a good one, in one archive
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("good.pdf", tiny_pdf("Honest"))
    upload = worker_stack.api.post(
        "/v1/batches/upload", files={"file": ("b.zip", buffer.getvalue())}, data={"dpi": "72"}
    )
    assert upload.status_code == 202, upload.text
    batch = wait_batch(worker_stack, upload.json()["id"], timeout=120)
    assert batch["status"] == "completed", batch
    lines = manifest(worker_stack, batch["id"])
    assert lines["good.pdf"]["status"] == "succeeded"
    assert lines["liar.pdf"]["status"] == "failed"
    assert lines["liar.pdf"]["error"]["code"] == "member_corrupt"
    assert batch["counts"]["failed"] == 1
    logs = "".join(p.log() for p in worker_stack.processes)
    assert "batch.expand.crashed" not in logs
