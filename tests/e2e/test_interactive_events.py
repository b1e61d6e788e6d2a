"""`GET /v1/tasks/{id}/events` read by a real HTTP client from uvicorn, with a real worker: the
task's state first, then its progress, each page's text and the end, in order; on the embedded
default (events in the database) and on PostgreSQL + Redis + S3 (events in Redis streams)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.documents import text_pdf
from tests.fixtures.sse import Sse, SseReader, events_of
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow

PAGES = ["Alpha page one speaks first", "Beta page two answers"]


def _submit(base: str) -> str:
    response = httpx.post(
        f"{base}/v1/tasks/upload", files={"file": ("two.pdf", text_pdf(PAGES))}, data={"mode": "base"}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _follow_from_queued(stack: Stack, base: str, task_id: str) -> list[Sse]:
    with httpx.stream("GET", f"{base}/v1/tasks/{task_id}/events", timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["cache-control"].startswith("no-cache")
        events = iter(SseReader(response))
        first = next(events)  # the state, read from the row while no worker runs
        stack.start_worker()
        return [first, *events]  # the server ends the stream after the terminal status


def _page_texts(base: str, task_id: str) -> dict[int, str]:
    layout = httpx.get(f"{base}/v1/tasks/{task_id}/result.json").json()
    return {
        page["number"]: "\n\n".join(b["text"] for b in page["blocks"] if b["text"])
        for page in layout["pages"]
    }


def _check_stream(events: list[Sse], task_id: str, texts: dict[int, str]) -> None:
    data: list[dict[str, Any]] = [event.json() for event in events]
    assert all(d["task_id"] == task_id for d in data)
    assert all(event.id for event in events), "every event has an id for Last-Event-ID"
    statuses = [
        (d["status"], d.get("pages")) for e, d in zip(events, data, strict=True) if e.event == "status"
    ]
    assert statuses == [("queued", None), ("running", None), ("running", [1, 2]), ("succeeded", None)]
    assert events[-1].event == "status", "the terminal status comes last"
    assert data[-1]["progress"]["pages_done"] == data[-1]["progress"]["pages_total"] == 2

    position = {(e.event, d.get("page")): n for n, (e, d) in enumerate(zip(events, data, strict=True))}
    for page in (1, 2):
        deltas = [d for e, d in zip(events, data, strict=True) if e.event == "delta" and d["page"] == page]
        # the CPU engine reads a page at once: one delta holding the page's whole text
        assert [(d["offset"], d["text"]) for d in deltas] == [(0, texts[page])]
        assert position[("delta", page)] < position[("page", page)] < len(events) - 1
        assert data[position[("page", page)]]["status"] == "succeeded"
    done = [d["progress"]["pages_done"] for e, d in zip(events, data, strict=True) if e.event == "page"]
    # counted from the task row when each page event goes out: pages finishing together can
    # both show 2
    assert done in ([1, 2], [2, 2])
    assert "Alpha page one" in texts[1]
    assert "Beta page two" in texts[2]


def _events_in_order(stack: Stack) -> None:
    _, base = stack.start_api_server()
    task_id = _submit(base)
    events = _follow_from_queued(stack, base, task_id)
    _check_stream(events, task_id, _page_texts(base, task_id))

    # a late subscriber gets the current state first, and here that is the end
    late = events_of(httpx.get(f"{base}/v1/tasks/{task_id}/events", timeout=30))
    assert [(e.event, e.json()["status"]) for e in late] == [("status", "succeeded")]
    assert late[0].json()["progress"]["percent"] == 100.0
    # another task id, or another owner's (the same 404), shows nothing
    missing = httpx.get(f"{base}/v1/tasks/tsk_01m81aaaaaaaaaaaaaaaaaaaaa/events", timeout=30)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "task_not_found"


def test_events_on_the_embedded_default(embedded_stack: Stack) -> None:
    _events_in_order(embedded_stack)


def test_events_through_redis_streams(production_stack: Stack) -> None:
    _events_in_order(production_stack)
    # and none went to the database table
    from sqlalchemy import func, select

    from shared.db.models import TaskEventRow
    from shared.db.session import session_scope

    with session_scope(production_stack.settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(TaskEventRow)) == 0
