"""The safety rules for uploaded archives, as pure functions of the archive's directory.

A reader (`readers.py`) reports each entry as it finds it; `check_entries` consumes them lazily
and stops at the first entry that breaks a whole-archive rule, so a bomb is refused before the
rest of it is ever decompressed. Whole-archive refusals raise `ArchiveRefused` (422, or 415 for
something that is no archive at all); entries that are merely unusable come back as members with
a `skip` code, which the manifest lists.

Archive-wide refusals           member skips
    archive_path_traversal          member_link              symlink or hard link
    archive_absolute_path           member_special_file      device, FIFO, socket
    archive_bomb                    member_encrypted
    archive_too_large               member_unsupported_compression
    archive_too_many_members        member_nested_archive    (by name here, by content later)
    archive_empty                   member_not_document      (by content, when extracted)
    archive_corrupt                 member_empty, member_too_large
                                    member_duplicate, member_invalid_name
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from shared.errors import Unprocessable

EntryKind = Literal["file", "dir", "symlink", "hardlink", "special"]

# ratios only matter when the expanded size does: a tiny text file may compress 200:1
RATIO_MIN_BYTES = 1024 * 1024
# what a tar adds to its members' bytes: a 512-byte header and up to 511 bytes of padding per
# member, then the end marker and the last record's padding
TAR_BYTES_PER_MEMBER = 1024
TAR_END_BYTES = 20 * 1024
NESTED_SUFFIXES = (
    ".zip",
    ".tar",
    ".tgz",
    ".gz",
    ".bz2",
    ".tbz2",
    ".xz",
    ".txz",
    ".zst",
    ".7z",
    ".rar",
    ".jar",
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ArchiveRefused(Unprocessable):
    """The archive as a whole is unsafe or unreadable; nothing in it is processed."""

    default_code = "archive_corrupt"


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int
    max_total_bytes: int
    max_ratio: int
    max_member_bytes: int


@dataclass(frozen=True)
class RawEntry:
    """An entry as the archive's directory describes it (sizes are declared, not measured)."""

    index: int
    name: str
    kind: EntryKind
    size: int
    compressed_size: int | None = None  # zip only
    encrypted: bool = False
    compression_supported: bool = True
    offset: int | None = None  # zip: local header offset; tar: data offset


@dataclass(frozen=True)
class Member:
    """A non-directory entry: a future batch item, usable or skipped with a reason."""

    index: int
    name: str
    size: int
    skip: str | None = None
    skip_message: str | None = None


def normalize_name(raw: str) -> str:
    """The entry's name as a clean relative path; refuses absolute and escaping names."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRefused(
            f"the archive holds an absolute path ({raw[:200]!r}); refusing the whole archive",
            "archive_absolute_path",
        )
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefused(
            f"the archive holds a path that escapes its root ({raw[:200]!r}); refusing the whole archive",
            "archive_path_traversal",
        )
    return "/".join(parts)


def is_nested_archive_name(name: str) -> bool:
    return name.lower().endswith(NESTED_SUFFIXES)


def _member_skip(entry: RawEntry, name: str, limits: ArchiveLimits) -> tuple[str, str] | None:
    if entry.kind in ("symlink", "hardlink"):
        return "member_link", "links are never followed"
    if entry.kind == "special":
        return "member_special_file", "devices, FIFOs and sockets are not documents"
    if not name or _CONTROL.search(name):
        return "member_invalid_name", "the name is empty or holds control characters"
    if entry.encrypted:
        return "member_encrypted", "the entry is encrypted"
    if not entry.compression_supported:
        return "member_unsupported_compression", "only stored and deflated zip entries are read"
    if is_nested_archive_name(name):
        return "member_nested_archive", "archives inside the archive are not opened"
    if entry.size == 0:
        return "member_empty", "the entry is empty"
    if entry.size > limits.max_member_bytes:
        return "member_too_large", f"the entry is larger than {limits.max_member_bytes:,} bytes"
    return None


def _check_ratio(entry: RawEntry, max_ratio: int) -> None:
    packed = entry.compressed_size
    if packed is None or entry.size <= RATIO_MIN_BYTES:
        return
    if entry.size > max_ratio * max(packed, 1):
        raise ArchiveRefused(
            f"entry {entry.name[:200]!r} expands {entry.size:,} bytes from {packed:,} "
            f"(more than {max_ratio}:1): refused as a zip bomb",
            "archive_bomb",
        )


class _Totals:
    def __init__(self, limits: ArchiveLimits, archive_bytes: int, whole_ratio: bool) -> None:
        self.limits, self.archive_bytes, self.whole_ratio = limits, archive_bytes, whole_ratio
        self.entries = 0
        self.bytes = 0

    def add(self, entry: RawEntry) -> None:
        self.entries += 1
        self.bytes += entry.size
        limits = self.limits
        if self.entries > limits.max_members:
            raise ArchiveRefused(
                f"the archive holds more than {limits.max_members:,} entries; split it",
                "archive_too_many_members",
            )
        if self.bytes > limits.max_total_bytes:
            raise ArchiveRefused(
                f"the archive expands to more than {limits.max_total_bytes:,} bytes; split it",
                "archive_too_large",
            )
        # a compressed tar is one stream: its ratio is judged as a whole, as it is read
        if (
            self.whole_ratio
            and self.bytes > RATIO_MIN_BYTES
            and self.bytes > limits.max_ratio * max(self.archive_bytes, 1)
        ):
            raise ArchiveRefused(
                f"the archive expands more than {limits.max_ratio}:1: refused as a compression bomb",
                "archive_bomb",
            )


def check_expanded(total: int, limits: ArchiveLimits, archive_bytes: int) -> None:
    """The decompressed stream of a compressed tar so far, `total` bytes: every byte counts,
    members or not (zeros after the end marker expand as well as anything)."""
    if total > RATIO_MIN_BYTES and total > limits.max_ratio * max(archive_bytes, 1):
        raise ArchiveRefused(
            f"the archive expands more than {limits.max_ratio}:1: refused as a compression bomb",
            "archive_bomb",
        )
    if total > limits.max_total_bytes + limits.max_members * TAR_BYTES_PER_MEMBER + TAR_END_BYTES:
        raise ArchiveRefused(
            f"the archive expands to more than {limits.max_total_bytes:,} bytes; split it",
            "archive_too_large",
        )


def check_entries(
    entries: Iterable[RawEntry], limits: ArchiveLimits, archive_bytes: int, *, whole_ratio: bool = False
) -> list[Member]:
    """Apply every rule; returns the non-directory members in archive order."""
    totals = _Totals(limits, archive_bytes, whole_ratio)
    members: list[Member] = []
    seen: set[str] = set()
    for entry in entries:
        totals.add(entry)
        name = normalize_name(entry.name)
        _check_ratio(entry, limits.max_ratio)
        if entry.kind == "dir":
            continue
        skip = _member_skip(entry, name, limits)
        if skip is None and name in seen:
            skip = ("member_duplicate", "an earlier entry has the same name")
        seen.add(name)
        code, message = skip if skip else (None, None)
        members.append(Member(entry.index, name or f"#{entry.index}", entry.size, code, message))
    if not members:
        raise ArchiveRefused("the archive holds no files", "archive_empty")
    return members


def check_no_overlap(entries: list[RawEntry]) -> None:
    """Zip entries whose data overlap are the signature of a non-recursive zip bomb."""
    spans = sorted(
        (e.offset, e.offset + 30 + (e.compressed_size or 0))
        for e in entries
        if e.offset is not None and e.kind != "dir"
    )
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ArchiveRefused(
                "entries of the archive overlap each other: refused as a zip bomb", "archive_bomb"
            )
