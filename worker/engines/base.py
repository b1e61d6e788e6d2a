"""The engine protocol: one page image in, recognised blocks out.

Engines are shared by every task thread of a worker process, so `recognize` must be
thread-safe; the DeepSeek engine relies on that to batch pages of many documents together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from worker.layout.recognized import RecognizedPage

if TYPE_CHECKING:
    from PIL import Image

    from shared.options import TaskOptions


@dataclass
class PageRequest:
    task_id: str
    page: int
    image: Image.Image
    dpi: int | None
    options: TaskOptions
    # receives text as it is produced (whole page for engines that cannot stream)
    on_delta: Callable[[str], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    # engine inputs already prepared from `image` in a render process (see render_pool.py)
    prepared: Any = None


@dataclass(frozen=True)
class EngineInfo:
    name: str
    model: str | None
    modes: tuple[str, ...]
    gpu: str | None = None
    streams_tokens: bool = False


class EngineCanceled(Exception):
    """The page's task was canceled while the engine worked on it."""


@dataclass(frozen=True)
class Preparation:
    """How an engine wants page inputs prepared in the render processes: `factory()` runs
    once in each process (it must be picklable) and returns a function of (image, options)
    whose result reaches the engine as `PageRequest.prepared`."""

    factory: Callable[[], Callable[[Image.Image, TaskOptions], Any]]
    processes: int


class Engine(Protocol):
    info: EngineInfo

    @property
    def preparation(self) -> Preparation | None:
        """How the render processes prepare this engine's inputs; None for plain page images.
        The worker starts those processes from `registry.preparation_for` before the engine
        loads, which must give the same answer."""
        ...

    def recognize(self, request: PageRequest) -> RecognizedPage:
        """Recognise one page. Blocking and thread-safe; raises EngineCanceled on cancel."""
        ...

    def cancel(self, task_id: str) -> None:
        """Abort whatever the engine is doing for `task_id`."""
        ...

    def close(self) -> None: ...
