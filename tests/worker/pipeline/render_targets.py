"""Render functions for the child-process renderer's tests (importable by a spawned child)."""

from __future__ import annotations

import os
import signal
from typing import Any

from shared.documents.inspect import Limits
from shared.errors import TransientError
from worker.pipeline.render import RenderedPage, render_page

CRASHING_PAGE = 2
_prefix: str | None = None


def crash_on_page_two(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: Any = None
) -> RenderedPage:
    """Dies the way a MuPDF segfault would, on page 2; renders the other pages."""
    if number == CRASHING_PAGE:
        os.kill(os.getpid(), signal.SIGKILL)
    return render_page(path, is_pdf, number, dpi, limits)


def remember_prefix(prefix: str) -> None:
    """An initializer: runs once in each child before its first page."""
    global _prefix
    _prefix = prefix


def prepared_with_prefix(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: Any = None
) -> RenderedPage:
    """Renders, then 'prepares' the page the way an engine's preparation would."""
    if number == 3:
        raise TransientError("the preparation's backend blinked", "prepare_unavailable")
    page = render_page(path, is_pdf, number, dpi, limits)
    page.prepared = f"{_prefix}:{number}:{getattr(options, 'mode', None)}"
    return page


def terminated_on_page_two(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: Any = None
) -> RenderedPage:
    """Stopped by SIGTERM on page 2, as a shutdown that reaches the render process would."""
    if number == CRASHING_PAGE:
        os.kill(os.getpid(), signal.SIGTERM)
    return render_page(path, is_pdf, number, dpi, limits)


def interrupted_on_page_two(
    path: str, is_pdf: bool, number: int, dpi: int, limits: Limits, *, options: Any = None
) -> RenderedPage:
    """Gets a Ctrl-C (SIGINT, as a terminal sends to the whole process group) on page 2."""
    if number == CRASHING_PAGE:
        os.kill(os.getpid(), signal.SIGINT)
    return render_page(path, is_pdf, number, dpi, limits)
