"""Reading zip and tar archives: their directories as `RawEntry`s, and one member's bytes.

Nothing here writes to a path derived from an entry's name: members are only ever read as
streams (and the platform stores them under keys made of task ids).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO

from shared.archives.formats import ArchiveFormat
from shared.archives.rules import (
    ArchiveLimits,
    ArchiveRefused,
    EntryKind,
    Member,
    RawEntry,
    check_entries,
    check_expanded,
    check_no_overlap,
)

READ_ERRORS = (
    tarfile.TarError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)
_UNIX = 3  # ZipInfo.create_system of archives made on Unix: only they carry file modes
_CHUNK = 1024 * 1024


def _corrupt(exc: BaseException) -> ArchiveRefused:
    return ArchiveRefused(f"the archive cannot be read: {type(exc).__name__}: {exc}", "archive_corrupt")


def _zip_kind(info: zipfile.ZipInfo) -> EntryKind:
    if info.is_dir():
        return "dir"
    mode = info.external_attr >> 16 if info.create_system == _UNIX else 0
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "special"
    return "file"


def _tar_kind(info: tarfile.TarInfo) -> EntryKind:
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    if info.isreg():
        return "file"
    return "special"


def _zip_entries(archive: zipfile.ZipFile) -> list[RawEntry]:
    return [
        RawEntry(
            index=index,
            name=info.filename,
            kind=_zip_kind(info),
            size=info.file_size,
            compressed_size=info.compress_size,
            encrypted=bool(info.flag_bits & 0x1),
            # bz2 and lzma decompress without an output bound inside zipfile: not read at all
            compression_supported=info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED),
            offset=info.header_offset,
        )
        for index, info in enumerate(archive.infolist())
    ]


def _tar_entry(index: int, info: tarfile.TarInfo) -> RawEntry:
    return RawEntry(index=index, name=info.name, kind=_tar_kind(info), size=max(info.size, 0))


class _CountedStream:
    """A decompressed stream that hands the running total of bytes read to `check`, which
    raises to stop it."""

    def __init__(self, raw: io.BufferedIOBase | IO[bytes], check: Callable[[int], None]) -> None:
        self.raw, self.check, self.total = raw, check, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.total += len(data)
        self.check(self.total)
        return data


def _no_check(total: int) -> None:
    pass


def _stream_tar_entries(
    path: str, fmt: ArchiveFormat, archive_bytes: int, limits: ArchiveLimits
) -> Iterator[RawEntry]:
    # stream mode never seeks, so a compressed tar is decompressed only as far as it is read:
    # the rules stop the iteration before a bomb's data is reached
    opener = _DECOMPRESSORS.get(fmt)

    def check(total: int) -> None:
        check_expanded(total, limits, archive_bytes)

    try:
        with opener(path) if opener else open(path, "rb") as raw:
            stream = _CountedStream(raw, check if opener else _no_check)
            with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
                for index, info in enumerate(archive):
                    yield _tar_entry(index, info)
            # what follows the end marker is decompressed too: a bomb hides there
            while stream.read(_CHUNK):
                pass
    except READ_ERRORS as exc:
        raise _corrupt(exc) from exc


def scan_archive(path: str, fmt: ArchiveFormat, archive_bytes: int, limits: ArchiveLimits) -> list[Member]:
    """Read the archive's directory once and apply every rule (used at submit)."""
    if fmt == ArchiveFormat.zip:
        try:
            with zipfile.ZipFile(path) as archive:
                entries = _zip_entries(archive)
        except READ_ERRORS as exc:
            raise _corrupt(exc) from exc
        members = check_entries(entries, limits, archive_bytes)
        check_no_overlap(entries)
        return members
    streamed = _stream_tar_entries(path, fmt, archive_bytes, limits)
    return check_entries(streamed, limits, archive_bytes, whole_ratio=fmt.compressed_tar)


def _gunzip(path: str) -> io.BufferedIOBase:
    return gzip.GzipFile(path, "rb")


def _bunzip(path: str) -> io.BufferedIOBase:
    return bz2.BZ2File(path, "rb")


def _unxz(path: str) -> io.BufferedIOBase:
    return lzma.LZMAFile(path, "rb")


_DECOMPRESSORS: dict[ArchiveFormat, Callable[[str], io.BufferedIOBase]] = {
    ArchiveFormat.tar_gz: _gunzip,
    ArchiveFormat.tar_bz2: _bunzip,
    ArchiveFormat.tar_xz: _unxz,
}


def decompress_tar(source: str, target: str, fmt: ArchiveFormat, limits: ArchiveLimits) -> None:
    """Write the plain tar inside a compressed one, so that members can be read by offset;
    stops at the same ratio and size caps as at submit, counting every decompressed byte."""
    opener = _DECOMPRESSORS[fmt]
    archive_bytes = os.path.getsize(source)
    written = 0
    try:
        with opener(source) as packed, open(target, "wb") as out:
            while chunk := packed.read(_CHUNK):
                written += len(chunk)
                check_expanded(written, limits, archive_bytes)
                out.write(chunk)
    except READ_ERRORS as exc:
        raise _corrupt(exc) from exc


class ArchiveReader:
    """Random access to a zip or a plain (uncompressed) tar on local disk."""

    def __init__(self, path: str, fmt: ArchiveFormat) -> None:
        if fmt.compressed_tar:
            raise ValueError("decompress the tar first (decompress_tar)")
        self.fmt = fmt
        try:
            if fmt == ArchiveFormat.zip:
                self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
                self._zip_infos = self._zip.infolist()
                self._tar: tarfile.TarFile | None = None
                self._tar_infos: list[tarfile.TarInfo] = []
            else:
                self._zip, self._zip_infos = None, []
                self._tar = tarfile.open(path, mode="r:")  # noqa: SIM115  (closed by close())
                self._tar_infos = self._tar.getmembers()
        except READ_ERRORS as exc:
            raise _corrupt(exc) from exc

    def entries(self) -> list[RawEntry]:
        if self._zip is not None:
            return _zip_entries(self._zip)
        return [_tar_entry(index, info) for index, info in enumerate(self._tar_infos)]

    def members(self, archive_bytes: int, limits: ArchiveLimits) -> list[Member]:
        entries = self.entries()
        members = check_entries(entries, limits, archive_bytes)
        if self._zip is not None:
            check_no_overlap(entries)
        return members

    def open(self, index: int) -> IO[bytes]:
        """The bytes of entry `index` (a regular file: callers never open links)."""
        try:
            if self._zip is not None:
                return self._zip.open(self._zip_infos[index])
            assert self._tar is not None
            handle = self._tar.extractfile(self._tar_infos[index])
        except READ_ERRORS as exc:
            raise _corrupt(exc) from exc
        if handle is None:
            raise ArchiveRefused(f"entry {index} is not a regular file", "archive_corrupt")
        return handle

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
