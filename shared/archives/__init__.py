"""Uploaded archives (zip, tar, compressed tar): formats, safety rules and readers."""

from shared.archives.formats import ArchiveFormat, looks_like_archive, sniff_archive
from shared.archives.readers import ArchiveReader, decompress_tar, scan_archive
from shared.archives.rules import ArchiveLimits, ArchiveRefused, Member, RawEntry, check_entries

__all__ = [
    "ArchiveFormat",
    "ArchiveLimits",
    "ArchiveReader",
    "ArchiveRefused",
    "Member",
    "RawEntry",
    "check_entries",
    "decompress_tar",
    "looks_like_archive",
    "scan_archive",
    "sniff_archive",
]
