"""Render functions for the child-process renderer's tests (importable by a spawned child)."""

from __future__ import annotations

import os
import signal

from shared.documents.inspect import Limits
from worker.pipeline.render import RenderedPage, render_page

CRASHING_PAGE = 2


def crash_on_page_two(path: str, is_pdf: bool, number: int, dpi: int, limits: Limits) -> RenderedPage:
    """Dies the way a MuPDF segfault would, on page 2; renders the other pages."""
    if number == CRASHING_PAGE:
        os.kill(os.getpid(), signal.SIGKILL)
    return render_page(path, is_pdf, number, dpi, limits)
