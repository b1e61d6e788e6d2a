"""What the pipeline tells a task's live watchers: status changes, finished pages and the text of
each page as the engine reads it (see `shared.events.model` for the format).

The pipeline calls this after the matching database write, so an event never announces a state
the row does not hold. Deltas of a page go through a grounding filter (DeepSeek's markup out)
and are merged while they arrive faster than `delta_interval_s`; a page's first text goes out
at once, and whatever is left goes out before the page's own event.

Text is streamed only for tasks someone watches (`EventPublisher.watched`, asked when a page
starts, at most once a second a task): an unwatched page asks its engine for no deltas at all,
so the GPU engine's frontend builds no output per step for it and no event is stored. A watcher
that arrives while a page is being read gets the text of the pages that start after it, and
every page's `page` event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.db.models import TaskStatus
from shared.events import EventPublisher, NullPublisher, Progress
from shared.events.model import delta_event, page_event, status_event
from worker.layout.grounding_stream import GroundingStreamFilter
from worker.pipeline.pages import DeltaSink, PageOutcome

WATCH_CHECK_S = 1.0  # how stale the answer to "is this task watched?" may be


class TaskDeltas:
    """A task's delta sink (`worker.pipeline.pages.DeltaSink`)."""

    def __init__(self, events: PipelineEvents, task_id: str) -> None:
        self.events, self.task_id = events, task_id

    def __call__(self, page: int, text: str) -> None:
        self.events._delta(self.task_id, page, text)

    def watched(self) -> bool:
        return self.events.watched(self.task_id)


@dataclass
class _PageText:
    filter: GroundingStreamFilter = field(default_factory=GroundingStreamFilter)
    offset: int = 0  # characters already sent
    held: str = ""  # filtered text not sent yet
    sent_at: float = float("-inf")


class PipelineEvents:
    def __init__(
        self,
        publisher: EventPublisher | None = None,
        delta_interval_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publisher = publisher or NullPublisher()
        self.delta_interval_s = delta_interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, int], _PageText] = {}
        self._watched: dict[str, tuple[float, bool]] = {}  # task -> (asked at, answer)

    # -- status ------------------------------------------------------------------------------
    def running(self, task_id: str, attempt: int) -> None:
        self.publisher.publish(status_event(task_id, TaskStatus.running, attempt=attempt))

    def pages_known(self, task_id: str, pages: list[int], done: int) -> None:
        progress = Progress(pages_done=done, pages_total=len(pages))
        self.publisher.publish(status_event(task_id, TaskStatus.running, progress=progress, pages=pages))

    def requeued(self, task_id: str, code: str, message: str) -> None:
        self._forget(task_id)
        self.publisher.publish(
            status_event(task_id, TaskStatus.queued, error_code=code, error_message=message)
        )

    def ended(self, task_id: str) -> None:
        """The task reached a terminal state; the terminal hook announces it
        (`shared.events.terminal`), with the counts of the committed row."""
        self._forget(task_id)

    # -- pages -------------------------------------------------------------------------------
    def delta_sink(self, task_id: str) -> DeltaSink:
        return TaskDeltas(self, task_id)

    def watched(self, task_id: str) -> bool:
        now = self.clock()
        with self._lock:
            cached = self._watched.get(task_id)
        if cached is not None and now - cached[0] < WATCH_CHECK_S:
            return cached[1]
        answer = self.publisher.watched(task_id)
        with self._lock:
            self._watched[task_id] = (now, answer)
        return answer

    def page_done(self, task_id: str, outcome: PageOutcome, progress: Progress) -> None:
        with self._lock:
            state = self._pages.pop((task_id, outcome.number), None)
        if state is not None:
            self._send(task_id, outcome.number, state, state.filter.finish())
        self.publisher.publish(
            page_event(
                task_id,
                outcome.number,
                ok=outcome.ok,
                truncated=outcome.truncated,
                progress=progress,
                error_code=outcome.error_code,
                error_message=outcome.error_message,
            )
        )

    def _delta(self, task_id: str, page: int, text: str) -> None:
        with self._lock:
            state = self._pages.setdefault((task_id, page), _PageText())
        # a page's deltas come from its own thread, one at a time
        state.held += state.filter.feed(text)
        if state.held and self.clock() - state.sent_at >= self.delta_interval_s:
            self._send(task_id, page, state, "")

    def _send(self, task_id: str, page: int, state: _PageText, tail: str) -> None:
        text, state.held = state.held + tail, ""
        if not text:
            return
        self.publisher.publish(delta_event(task_id, page, state.offset, text))
        state.offset += len(text)
        state.sent_at = self.clock()

    def _forget(self, task_id: str) -> None:
        # a retried or finished task starts its pages' text afresh (offset 0)
        with self._lock:
            for key in [key for key in self._pages if key[0] == task_id]:
                del self._pages[key]
            self._watched.pop(task_id, None)
