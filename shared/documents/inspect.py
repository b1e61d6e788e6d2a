"""Open a document just far enough to know it is usable: type, page count, and the guards that
turn hostile or broken files into clear errors before any work is queued."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pymupdf
from PIL import Image

from shared.documents.page_tree import check_document_tree
from shared.documents.public_text import public_reason
from shared.documents.sniff import SNIFF_BYTES, DocumentType, sniff_type
from shared.errors import DocumentError, InvalidRequest, UnsupportedMediaType

# MuPDF reports recoverable syntax problems on stderr; we judge documents ourselves.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP"}


@dataclass(frozen=True)
class DocumentInfo:
    type: DocumentType
    page_count: int


@dataclass(frozen=True)
class Limits:
    max_pages: int
    max_image_pixels: int


def inspect_document(path: str, limits: Limits) -> DocumentInfo:
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidRequest("the file is empty", "empty_file")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    doc_type = sniff_type(head)
    if doc_type is None:
        raise UnsupportedMediaType(
            "the file is not a PDF, PNG, JPEG, TIFF or WebP document (judged by its content, not its name)",
            "unsupported_media_type",
        )
    pages = _inspect_pdf(path, limits) if doc_type.is_pdf else _inspect_image(path, limits)
    return DocumentInfo(doc_type, pages)


def open_pdf(path: str, max_pages: int | None = None) -> pymupdf.Document:
    """Open a PDF or raise the DocumentError that says why it cannot be used. With `max_pages`,
    the page tree is walked first (at most about twice that many nodes) to refuse cycles."""
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises several types for broken files
        raise DocumentError(f"the PDF cannot be opened: {public_reason(exc, path)}", "pdf_corrupt") from exc
    try:
        _check_pdf(doc, path, max_pages)
    except BaseException:
        doc.close()
        raise
    return doc


def _check_pdf(doc: pymupdf.Document, path: str, max_pages: int | None) -> None:
    if doc.needs_pass:
        raise DocumentError("the PDF is encrypted with a password; upload it decrypted", "pdf_encrypted")
    if doc.is_repaired and not _has_eof_marker(path):
        raise DocumentError(
            "the PDF is truncated (no %%EOF marker and a damaged cross-reference table); "
            "upload the complete file",
            "pdf_truncated",
        )
    try:
        if max_pages is not None:
            check_document_tree(doc, 2 * max_pages + 1024)
        count = doc.page_count  # MuPDF raises on a /Count it cannot believe
    except Exception as exc:
        raise DocumentError(
            f"the PDF's page tree is damaged: {public_reason(exc, path)}", "pdf_corrupt"
        ) from exc
    if count == 0:
        raise DocumentError("the PDF has no pages", "pdf_corrupt")


def _inspect_pdf(path: str, limits: Limits) -> int:
    doc = open_pdf(path, limits.max_pages)
    try:
        count = int(doc.page_count)
    finally:
        doc.close()
    _check_page_count(count, limits)
    return count


def _check_page_count(count: int, limits: Limits) -> None:
    if count > limits.max_pages:
        raise DocumentError(
            f"the document has {count} pages; the limit is {limits.max_pages}. Split it into "
            f"files of at most {limits.max_pages} pages",
            "too_many_pages",
        )


def _has_eof_marker(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - 2048))
        return b"%%EOF" in handle.read()


def open_image(path: str, limits: Limits) -> Image.Image:
    """Open an image lazily (headers only) after the format and pixel-count guards."""
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise DocumentError(str(exc), "image_too_large") from exc
    except Exception as exc:
        raise DocumentError(f"the image cannot be read: {public_reason(exc, path)}", "image_corrupt") from exc
    if image.format not in IMAGE_FORMATS:
        image.close()
        raise UnsupportedMediaType(f"image format {image.format} is not supported", "unsupported_media_type")
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise DocumentError("the image has no pixels", "image_corrupt")
    if width * height > limits.max_image_pixels:
        image.close()
        raise DocumentError(
            f"the image is {width}x{height} = {width * height:,} pixels; the limit is "
            f"{limits.max_image_pixels:,}",
            "image_too_large",
        )
    return image


def _inspect_image(path: str, limits: Limits) -> int:
    image = open_image(path, limits)
    try:
        frames = int(getattr(image, "n_frames", 1))
    finally:
        image.close()
    _check_page_count(frames, limits)
    return frames
