"""Page images: PDF rendering with a pixel cap, images opened safely."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from shared.documents.inspect import Limits
from shared.errors import DocumentError
from tests.documents import image_bytes
from worker.pipeline.render import fit_dpi, render_image_page, render_page, render_pdf_page, to_rgb

LIMITS = Limits(max_pages=10, max_image_pixels=5_000_000)


def test_fit_dpi_keeps_the_request_when_it_fits_and_lowers_it_otherwise() -> None:
    assert fit_dpi(612, 792, 144, 5_000_000) == 144
    lowered = fit_dpi(612 * 4, 792 * 4, 144, 5_000_000)
    assert lowered < 144
    assert (612 * 4 * lowered / 72) * (792 * 4 * lowered / 72) <= 5_000_000


def test_pdf_pages_render_at_the_requested_dpi(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[2] / "data" / "olmo-page-1.pdf"
    page = render_pdf_page(str(path), 1, 100, LIMITS)
    assert page.dpi == 100
    assert page.image.mode == "RGB"
    width, height = page.image.size
    assert abs(width - 595 * 100 / 72) <= 1
    assert abs(height - 842 * 100 / 72) <= 1


def test_a_huge_page_is_rendered_smaller_and_an_absurd_one_fails(tmp_path: Path) -> None:
    doc = pymupdf.open()
    doc.new_page(width=2000, height=2000)
    doc.new_page(width=14400, height=14400)
    path = tmp_path / "huge.pdf"
    doc.save(path)
    limits = Limits(10, 2_000_000)
    page = render_pdf_page(str(path), 1, 144, limits)
    assert page.dpi is not None
    assert page.dpi < 144
    assert page.image.size[0] * page.image.size[1] <= 2_000_000
    with pytest.raises(DocumentError) as caught:
        render_pdf_page(str(path), 2, 144, limits)
    assert caught.value.code == "page_too_large"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (400, 100), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rotated.jpg"
    path.write_bytes(image_bytes(image, "JPEG", exif=exif))
    page = render_image_page(str(path), 1, LIMITS)
    assert page.image.size == (100, 400)
    assert page.dpi is None


def test_transparency_becomes_white_not_black(tmp_path: Path) -> None:
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    assert to_rgb(image).getpixel((10, 10)) == (255, 255, 255)
    path = tmp_path / "clear.png"
    path.write_bytes(image_bytes(image, "PNG"))
    assert render_page(str(path), False, 1, 144, LIMITS).image.getpixel((5, 5)) == (255, 255, 255)


def test_tiff_frames_are_pages(tmp_path: Path) -> None:
    frames = [Image.new("L", (120, 80), shade) for shade in (0, 128, 255)]
    path = tmp_path / "scan.tiff"
    path.write_bytes(image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    shades = [render_image_page(str(path), n, LIMITS).image.getpixel((1, 1)) for n in (1, 2, 3)]
    assert shades == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]


def test_a_corrupt_image_fails_with_a_code(tmp_path: Path) -> None:
    data = image_bytes(Image.new("RGB", (400, 400), "blue"), "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DocumentError) as caught:
        render_image_page(str(path), 1, LIMITS)
    assert caught.value.code == "image_corrupt"
