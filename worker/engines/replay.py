"""The replay engine: recorded DeepSeek-OCR raw outputs played back through the grounding
parser, so the whole worker (rendering, layout, crops, results) runs on the CPU with output of
the GPU engine's shape.

The recordings are plain files in one folder (`OCR_REPLAY_DIR`): `page-{n}.txt` is what page n
of any document gets, and `page.txt`, when present, serves every page without its own file. A
recording ending in the model's end-of-sentence token replays as a finished page, one without
it as a truncated page. A page with no recording fails with `replay_missing`.
"""

from __future__ import annotations

from pathlib import Path

from shared.errors import OcrpError
from shared.logs import get_logger
from shared.options import Mode
from worker.engines.base import EngineCanceled, EngineInfo, PageRequest, Preparation
from worker.layout.grounding import recognized_from_raw
from worker.layout.grounding_text import has_end_of_sentence
from worker.layout.recognized import RecognizedPage

FALLBACK_NAME = "page.txt"
MAX_RECORDING_BYTES = 4 * 1024 * 1024  # a page of 8,192 tokens is well under 100 KiB


def recording_name(page: int) -> str:
    return f"page-{page}.txt"


def replay_problem(directory: Path | None) -> str | None:
    """Why a replay worker could not start, or None when it can."""
    if directory is None:
        return "OCR_REPLAY_DIR is not set: point it at a folder of recorded page-{n}.txt outputs"
    if not directory.is_dir():
        return f"OCR_REPLAY_DIR {directory} is not a folder"
    if not any(directory.glob("page*.txt")):
        return f"OCR_REPLAY_DIR {directory} holds no page-{{n}}.txt or page.txt recording"
    return None


class ReplayEngine:
    preparation: Preparation | None = None  # takes plain page images

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.info = EngineInfo(
            name="replay",
            model=f"deepseek-ocr replay of {directory}",
            modes=tuple(m.value for m in Mode),
        )

    def recording_path(self, page: int) -> Path | None:
        for name in (recording_name(page), FALLBACK_NAME):
            path = self.directory / name
            if path.is_file():
                return path
        return None

    def recognize(self, request: PageRequest) -> RecognizedPage:
        if request.cancel.is_set():
            raise EngineCanceled(request.task_id)
        raw = self._read(request.page)
        if request.on_delta is not None:
            request.on_delta(raw)
        width, height = request.image.size
        log = get_logger(__name__, task_id=request.task_id, page=request.page)
        return recognized_from_raw(raw, width, height, eos=has_end_of_sentence(raw), log=log)

    def _read(self, page: int) -> str:
        path = self.recording_path(page)
        if path is None:
            raise OcrpError(
                f"the replay engine has no recording for page {page}: add "
                f"{recording_name(page)} or {FALLBACK_NAME} to {self.directory}",
                "replay_missing",
            )
        if path.stat().st_size > MAX_RECORDING_BYTES:
            raise OcrpError(
                f"recording {path.name} is larger than {MAX_RECORDING_BYTES:,} bytes", "replay_invalid"
            )
        return path.read_text(encoding="utf-8", errors="replace")

    def cancel(self, task_id: str) -> None:
        # a replayed page takes milliseconds; cancellation is honoured between pages
        return None

    def close(self) -> None:
        return None
