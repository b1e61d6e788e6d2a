"""What a file really is, from its first bytes. The filename and the client's content type are
never trusted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentType:
    content_type: str
    extension: str

    @property
    def is_pdf(self) -> bool:
        return self.extension == "pdf"


PDF = DocumentType("application/pdf", "pdf")
PNG = DocumentType("image/png", "png")
JPEG = DocumentType("image/jpeg", "jpg")
TIFF = DocumentType("image/tiff", "tiff")
WEBP = DocumentType("image/webp", "webp")

SUPPORTED = (PDF, PNG, JPEG, TIFF, WEBP)
BY_EXTENSION = {t.extension: t for t in SUPPORTED}

# how many leading bytes sniffing needs; PDF allows junk before the header within 1 KiB
SNIFF_BYTES = 1024


def sniff_type(head: bytes) -> DocumentType | None:
    """The supported type `head` (the file's first bytes) starts with, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in head[:SNIFF_BYTES]:
        return PDF
    return None
