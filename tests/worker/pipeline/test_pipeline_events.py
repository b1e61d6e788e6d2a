"""What the pipeline publishes for a task's watchers: deltas merged while they come fast, a
page's last text before its page event, offsets that restart with a new attempt."""

from __future__ import annotations

from shared.events import Progress, TaskEvent
from worker.pipeline.events import PipelineEvents
from worker.pipeline.pages import PageOutcome


class Recorder:
    def __init__(self) -> None:
        self.events: list[TaskEvent] = []
        self.watchers: set[str] = {"tsk_1"}
        self.asked = 0

    def publish(self, event: TaskEvent) -> None:
        self.events.append(event)

    def watched(self, task_id: str) -> bool:
        self.asked += 1
        return task_id in self.watchers

    def close(self) -> None:
        return None

    def summary(self) -> list[tuple[str, object]]:
        return [(e.type.value, e.data.get("text", e.data.get("status"))) for e in self.events]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[PipelineEvents, Recorder, Clock]:
    recorder, clock = Recorder(), Clock()
    return PipelineEvents(recorder, delta_interval_s=0.1, clock=clock), recorder, clock


def test_only_a_watched_task_streams_and_the_answer_is_asked_once_a_second() -> None:
    events, recorder, clock = make()
    sink, unwatched = events.delta_sink("tsk_1"), events.delta_sink("tsk_2")
    assert sink.watched()
    assert not unwatched.watched()
    recorder.watchers.clear()  # the watcher left: still streaming until the answer is a second old
    assert sink.watched()
    assert recorder.asked == 2
    clock.now += 1.0
    assert not sink.watched()
    assert recorder.asked == 3


def test_an_unwatched_page_gets_no_delta_callback() -> None:
    from worker.pipeline.pages import _page_sink

    events, recorder, _ = make()
    assert _page_sink(events.delta_sink("tsk_2"), 1) is None
    on_delta = _page_sink(events.delta_sink("tsk_1"), 4)
    assert on_delta is not None
    on_delta("Text")
    assert [(e.data["page"], e.data["text"]) for e in recorder.events] == [(4, "Text")]


def test_the_default_merge_interval_is_a_quarter_second() -> None:
    recorder, clock = Recorder(), Clock()
    events = PipelineEvents(recorder, clock=clock)
    sink = events.delta_sink("tsk_1")
    for _ in range(10):  # 8 tokens every 0.1 s, as a fast GPU engine streams
        sink(1, "abcd")
        clock.now += 0.1
    # the first text at once, then one event per 0.25 s
    assert len(recorder.events) == 4


def test_a_whole_page_delta_goes_out_at_once_then_the_page() -> None:
    events, recorder, _ = make()
    events.delta_sink("tsk_1")(1, "The whole page.")
    events.page_done("tsk_1", PageOutcome(1, ok=True), Progress(1, 2))
    assert recorder.summary() == [("delta", "The whole page."), ("page", "succeeded")]
    delta, page = recorder.events
    assert delta.data == {"task_id": "tsk_1", "page": 1, "offset": 0, "text": "The whole page."}
    assert page.data["progress"] == {
        "pages_done": 1,
        "pages_total": 2,
        "pages_failed": 0,
        "pages_truncated": 0,
        "percent": 50.0,
    }


def test_fast_tokens_are_merged_and_the_rest_is_sent_before_the_page_event() -> None:
    events, recorder, clock = make()
    sink = events.delta_sink("tsk_1")
    sink(3, "Hel")  # first text of the page: at once
    clock.now += 0.02
    sink(3, "lo ")
    clock.now += 0.02
    sink(3, "wor")
    clock.now += 0.1  # the interval passed: what was held goes out with this token
    sink(3, "ld")
    clock.now += 0.01
    sink(3, "!")
    events.page_done("tsk_1", PageOutcome(3, ok=True, truncated=True), Progress(1, 1, 0, 1))
    deltas = [e.data for e in recorder.events if e.type == "delta"]
    assert [(d["offset"], d["text"]) for d in deltas] == [(0, "Hel"), (3, "lo world"), (11, "!")]
    assert recorder.events[-1].type == "page"
    assert recorder.events[-1].data["truncated"] is True


def test_grounding_markup_never_reaches_the_deltas() -> None:
    events, recorder, clock = make()
    sink = events.delta_sink("tsk_1")
    for token in ["<|ref|>", "title", "<|/ref|>", "<|det|>", "[[1, 2, 3, 4]]", "<|/det|>", "\n# Hi"]:
        clock.now += 1
        sink(1, token)
    events.page_done("tsk_1", PageOutcome(1, ok=True), Progress(1, 1))
    assert "".join(e.data["text"] for e in recorder.events if e.type == "delta") == "# Hi"


def test_a_failed_page_says_why() -> None:
    events, recorder, _ = make()
    outcome = PageOutcome(2, ok=False, error_code="page_too_large", error_message="too big")
    events.page_done("tsk_1", outcome, Progress(2, 2, 1))
    [page] = recorder.events
    assert page.data["status"] == "failed"
    assert page.data["error"] == {"code": "page_too_large", "message": "too big"}


def test_a_retried_task_starts_its_pages_text_again_at_offset_zero() -> None:
    events, recorder, clock = make()
    sink = events.delta_sink("tsk_1")
    sink(1, "first try")
    events.requeued("tsk_1", "storage_unavailable", "storage blinked")
    clock.now += 1
    sink(1, "first try")
    offsets = [e.data["offset"] for e in recorder.events if e.type == "delta"]
    assert offsets == [0, 0]
    assert recorder.summary()[1] == ("status", "queued")


def test_status_events_carry_the_attempt_and_the_pages() -> None:
    events, recorder, _ = make()
    events.running("tsk_1", attempt=2)
    events.pages_known("tsk_1", [2, 3], done=1)
    running, known = recorder.events
    assert running.data["attempt"] == 2
    assert running.data["progress"] is None
    assert known.data["pages"] == [2, 3]
    assert known.data["progress"]["pages_done"] == 1
