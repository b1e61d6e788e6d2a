"""What kind of archive a file is, from its first bytes (never from its name)."""

from __future__ import annotations

from enum import StrEnum

# enough for the ustar magic at offset 257
SNIFF_BYTES = 512


class ArchiveFormat(StrEnum):
    zip = "zip"
    tar = "tar"
    tar_gz = "tar.gz"
    tar_bz2 = "tar.bz2"
    tar_xz = "tar.xz"

    @property
    def is_tar(self) -> bool:
        return self != ArchiveFormat.zip

    @property
    def compressed_tar(self) -> bool:
        return self in (ArchiveFormat.tar_gz, ArchiveFormat.tar_bz2, ArchiveFormat.tar_xz)


_COMPRESSED = (
    (b"\x1f\x8b", ArchiveFormat.tar_gz),
    (b"BZh", ArchiveFormat.tar_bz2),
    (b"\xfd7zXZ\x00", ArchiveFormat.tar_xz),
)
# magic numbers of containers we never open inside an archive
_OTHER_ARCHIVES = (b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"(\xb5/\xfd", b"PK\x03\x04", b"PK\x05\x06")


def sniff_archive(head: bytes) -> ArchiveFormat | None:
    """The archive format `head` (the file's first bytes) starts with, or None.

    A compressed stream is taken for a compressed tar here; reading it proves it (or refuses)."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ArchiveFormat.zip
    for magic, fmt in _COMPRESSED:
        if head.startswith(magic):
            return fmt
    if len(head) >= 262 and head[257:262] == b"ustar":
        return ArchiveFormat.tar
    return None


def looks_like_archive(head: bytes) -> bool:
    """True for any container format, including the ones this platform does not open."""
    return sniff_archive(head) is not None or head.startswith(_OTHER_ARCHIVES)
