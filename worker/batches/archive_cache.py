"""A local copy of each batch's archive on the expanding worker, downloaded once.

Archives need random access (a zip's directory is at its end; tar members are read by
offset), which object storage does not give through the Storage interface. Compressed tars are
decompressed once into a plain tar, under the same uncompressed-size cap as at submit. Files
are written beside their target and renamed, so a half-written copy is never used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.archives import ArchiveFormat, ArchiveLimits, ArchiveReader, Member, decompress_tar
from shared.storage import Storage


class ArchiveCache:
    def __init__(self, root: Path, limits: ArchiveLimits) -> None:
        self.root = root
        self.limits = limits
        self._members: dict[str, list[Member]] = {}
        self._readers: dict[str, ArchiveReader] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _download(self, storage: Storage, batch_id: str, key: str) -> Path:
        folder = self.root / batch_id
        target = folder / "archive"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
            os.close(fd)
            try:
                storage.download_to(key, tmp)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return target

    def _plain(self, source: Path, fmt: ArchiveFormat) -> Path:
        target = source.with_name("archive.tar")
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=source.parent, prefix=".inflate-")
            os.close(fd)
            try:
                decompress_tar(str(source), tmp, fmt, self.limits)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return target

    @contextmanager
    def reader(
        self, storage: Storage, batch_id: str, key: str, fmt: ArchiveFormat
    ) -> Iterator[ArchiveReader]:
        """Random access to the batch's archive. The reader stays open between runs (reading a
        big tar's headers takes seconds) and is used by one thread at a time."""
        with self._lock(batch_id):
            if batch_id not in self._readers:
                local = self._download(storage, batch_id, key)
                if fmt.compressed_tar:
                    self._readers[batch_id] = ArchiveReader(str(self._plain(local, fmt)), ArchiveFormat.tar)
                else:
                    self._readers[batch_id] = ArchiveReader(str(local), fmt)
            os.utime(self.root / batch_id)  # in use: not for `prune`
            yield self._readers[batch_id]

    def members(self, storage: Storage, batch_id: str, key: str, fmt: ArchiveFormat) -> list[Member]:
        """The archive's members with the safety rules applied (cached: the archive never changes)."""
        if batch_id not in self._members:
            archive_bytes = storage.size(key)
            with self.reader(storage, batch_id, key, fmt) as reader:
                self._members[batch_id] = reader.members(archive_bytes, self.limits)
        return self._members[batch_id]

    def _lock(self, batch_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(batch_id, threading.Lock())

    def drop(self, batch_id: str) -> None:
        with self._lock(batch_id):
            self._members.pop(batch_id, None)
            reader = self._readers.pop(batch_id, None)
            if reader is not None:
                reader.close()
            shutil.rmtree(self.root / batch_id, ignore_errors=True)

    def prune(self, max_age_s: float) -> int:
        """Remove copies nobody touched for a while (batches finished on another worker)."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        pruned = 0
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                self.drop(folder.name)
                pruned += 1
        return pruned
