"""PDFs made with PyMuPDF that mimic what archives hold: a report with a ruled table, a
two-column paper, a book chapter with running heads, and the same pages rasterised as scans.

Each builder returns the PDF bytes; the evaluation's checks (`checks.json`) are written against
the sentences placed here.
"""

from __future__ import annotations

import pymupdf

LOREM = (
    "Archives keep their records for decades and the text of each page must stay searchable. "
    "Each paper in this collection was written with care and reviewed by two readers. "
    "The committee met in the spring and agreed on the budget for the coming year. "
)


def _paragraph(page: pymupdf.Page, rect: pymupdf.Rect, text: str, size: float = 10) -> None:
    page.insert_textbox(rect, text, fontsize=size, fontname="helv")


def report_with_table() -> bytes:
    doc = pymupdf.open()
    for number in (1, 2):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 40), "Annual Report 2023 - Northwind Holdings", fontsize=8)
        page.insert_text((300, 760), f"Page {number} of 2", fontsize=8)
        if number == 1:
            page.insert_text((72, 100), "Financial Summary", fontsize=20, fontname="hebo")
            _paragraph(
                page,
                pymupdf.Rect(72, 120, 540, 220),
                "Revenue grew by twelve percent in the fiscal year, driven by the northern region. " + LOREM,
            )
            rows = [
                ("Region", "Revenue", "Margin"),
                ("North", "4,210", "18%"),
                ("South", "3,115", "12%"),
                ("East", "2,870", "15%"),
                ("West", "1,940", "9%"),
            ]
            top = 240.0
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    cell_rect = pymupdf.Rect(72 + c * 150, top + r * 22, 222 + c * 150, top + (r + 1) * 22)
                    page.draw_rect(cell_rect, color=(0, 0, 0), width=0.7)
                    page.insert_text((cell_rect.x0 + 4, cell_rect.y1 - 7), cell, fontsize=10, fontname="helv")
            _paragraph(
                page,
                pymupdf.Rect(72, 370, 540, 460),
                "The board recommends a dividend of forty cents per share for the year. " + LOREM,
            )
        else:
            page.insert_text((72, 100), "Outlook", fontsize=20, fontname="hebo")
            _paragraph(
                page,
                pymupdf.Rect(72, 120, 540, 300),
                "Management expects demand to remain stable through the next two quarters. " + LOREM * 2,
            )
            page.draw_rect(
                pymupdf.Rect(150, 320, 460, 520), color=(0.2, 0.3, 0.8), fill=(0.8, 0.85, 1), width=1
            )
            for i, h in enumerate((60, 110, 90, 150)):
                page.draw_rect(pymupdf.Rect(180 + i * 65, 510 - h, 220 + i * 65, 510), fill=(0.2, 0.3, 0.8))
            page.insert_text((150, 540), "Figure 1: Revenue by quarter.", fontsize=9)
    return bytes(doc.tobytes())


def two_column_paper() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((130, 80), "Sparse Attention for Long Documents", fontsize=18, fontname="hebo")
    page.insert_text((230, 102), "A. Author and B. Writer", fontsize=10)
    left = (
        "The left column opens the introduction with a plain statement of the problem. "
        "Long documents strain the memory of attention layers, and we study a sparse "
        "variant that keeps accuracy while reducing the cost. "
        + LOREM * 3
        + "The left column ends here with its final sentence."
    )
    right = (
        "The right column begins the method section with the main equation. "
        "We group tokens into blocks and attend within and across blocks. "
        + LOREM * 3
        + "The right column ends here with its final sentence."
    )
    _paragraph(page, pymupdf.Rect(56, 130, 296, 700), left)
    _paragraph(page, pymupdf.Rect(316, 130, 556, 700), right)
    page.insert_text((300, 760), "1", fontsize=9)
    return bytes(doc.tobytes())


def book_chapter(pages: int = 4) -> bytes:
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=432, height=648)
        if number > 1:
            head = "CHAPTER 3. THE RIVER TRADE" if number % 2 == 0 else "3.1. EARLY MARKETS"
            page.insert_text((60, 40), f"{40 + number}   {head}", fontsize=8)
        top = 70.0
        if number == 1:
            page.insert_text((60, 110), "Chapter 3", fontsize=22, fontname="hebo")
            page.insert_text((60, 140), "The River Trade", fontsize=18, fontname="hebo")
            top = 170.0
        text = (
            f"On page {number} the narrative continues along the river. Merchants carried salt and "
            "grain downstream, and returned with cloth, tools and news of distant towns. "
            "The settle-\nment grew around the landing, where the boats were unloaded. " + LOREM * 2
        )
        _paragraph(page, pymupdf.Rect(60, top, 372, 600), text, size=10)
        page.insert_text((210, 625), str(40 + number), fontsize=8)
    return bytes(doc.tobytes())


def rasterised(pdf: bytes, dpi: int = 150) -> bytes:
    """The pages as scans: images only, no text layer."""
    source = pymupdf.open(stream=pdf, filetype="pdf")
    out = pymupdf.open()
    for page in source:
        pixmap = page.get_pixmap(dpi=dpi, colorspace="gray")
        target = out.new_page(width=page.rect.width, height=page.rect.height)
        target.insert_image(target.rect, stream=pixmap.tobytes("png"))
    return bytes(out.tobytes())


def scan_with_ocr_layer(pdf: bytes, dpi: int = 150) -> bytes:
    """Scans with an invisible text layer over them that has OCR-style errors in it."""
    source = pymupdf.open(stream=pdf, filetype="pdf")
    out = pymupdf.open(stream=rasterised(pdf, dpi), filetype="pdf")
    for page, target in zip(source, out, strict=True):
        for block in page.get_text("blocks"):
            garbled = block[4].replace("e", "c").replace("th", "tb")
            target.insert_textbox(pymupdf.Rect(block[:4]), garbled, fontsize=9, render_mode=3)
    return bytes(out.tobytes())


BUILDERS = {
    "gen-report.pdf": report_with_table,
    "gen-two-column.pdf": two_column_paper,
    "gen-book-chapter.pdf": book_chapter,
    "gen-report-scan.pdf": lambda: rasterised(report_with_table()),
    "gen-two-column-scan.pdf": lambda: rasterised(two_column_paper()),
    "gen-book-scan-ocr-layer.pdf": lambda: scan_with_ocr_layer(book_chapter(2)),
}
