"""Sniffing by content and the document guards."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from shared.documents.inspect import Limits, inspect_document
from shared.documents.sniff import sniff_type
from shared.errors import OcrpError
from tests.documents import bomb_png, encrypted_pdf, image_bytes, text_pdf, truncated

DATA = Path(__file__).resolve().parents[1] / "data"
LIMITS = Limits(max_pages=5, max_image_pixels=10_000_000)


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xef\xbb\xbfjunk before the header %PDF-1.4", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"II*\x00....", "image/tiff"),
        (b"MM\x00*....", "image/tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_types_are_sniffed_from_content(head: bytes, content_type: str) -> None:
    sniffed = sniff_type(head)
    assert sniffed is not None
    assert sniffed.content_type == content_type


@pytest.mark.parametrize("head", [b"", b"hello", b"PK\x03\x04zip", b"GIF89a", b"<html>"])
def test_other_content_is_not_a_document(head: bytes) -> None:
    assert sniff_type(head) is None


def _write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "doc"
    path.write_bytes(data)
    return str(path)


def test_pdf_page_count(tmp_path: Path) -> None:
    info = inspect_document(_write(tmp_path, text_pdf(["a", "b", "c"])), LIMITS)
    assert (info.type.extension, info.page_count) == ("pdf", 3)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"%PDF-1.4\nthis is not really a pdf", "pdf_corrupt"),
        (truncated(DATA / "book-4p.pdf", 0.5), "pdf_truncated"),
        (encrypted_pdf(DATA / "olmo-page-1.pdf"), "pdf_encrypted"),
        (text_pdf(["p"] * 6), "too_many_pages"),
        (bomb_png(), "image_too_large"),
        (b"\x89PNG\r\n\x1a\ntruncated image", "image_corrupt"),
    ],
)
def test_broken_documents_are_refused_with_a_code(tmp_path: Path, data: bytes, code: str) -> None:
    with pytest.raises(OcrpError) as caught:
        inspect_document(_write(tmp_path, data), LIMITS)
    assert caught.value.code == code


def test_a_complete_pdf_with_trailing_garbage_is_accepted(tmp_path: Path) -> None:
    data = (DATA / "olmo-page-1.pdf").read_bytes() + b"\n% trailing bytes some writers add\n"
    assert inspect_document(_write(tmp_path, data), LIMITS).page_count == 1


def test_multi_frame_tiff_counts_frames_as_pages(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (200, 100), color) for color in ("white", "gray", "black")]
    data = image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    info = inspect_document(_write(tmp_path, data), LIMITS)
    assert (info.type.content_type, info.page_count) == ("image/tiff", 3)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_single_images_have_one_page(tmp_path: Path, fmt: str) -> None:
    data = image_bytes(Image.new("RGB", (300, 200), "white"), fmt)
    assert inspect_document(_write(tmp_path, data), LIMITS).page_count == 1
