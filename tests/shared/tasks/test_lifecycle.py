"""Every move of a task on plain database sessions (SQLite and PostgreSQL): allowed from the
states the table names, refused with TransitionRefused from any other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.clock import utcnow
from shared.db.models import Page, PageStatus, Task, TaskStatus
from shared.db.session import session_scope
from shared.layout import LayoutPage
from shared.tasks import lifecycle
from shared.tasks.lifecycle import MOVES, TransitionRefused

LONG_AGO = timedelta(hours=1)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with session_scope(database_url) as session:
        yield session


def _task(session: Session, status: TaskStatus, task_id: str = "tsk_one", **values: Any) -> Task:
    # a running task with an old heartbeat: the claim's takeover guard lets it through
    beat = utcnow() - LONG_AGO if status == TaskStatus.running else None
    task = Task(
        id=task_id,
        status=status,
        source_kind="upload",
        options={},
        created_at=utcnow(),
        heartbeat_at=beat,
        **values,
    )
    session.add(task)
    session.flush()
    return task


def _status(session: Session, task_id: str = "tsk_one") -> str | None:
    return session.scalar(select(Task.status).where(Task.id == task_id))


MAKE: dict[str, Callable[[Session, str], object]] = {
    "claim": lambda s, t: lifecycle.claim(s, t, "w1", utcnow() - timedelta(minutes=5)),
    "requeue": lambda s, t: lifecycle.requeue(s, t, code="x", message="x", not_before=utcnow()),
    "succeed": lambda s, t: lifecycle.succeed(s, t, result_keys={"markdown": "k"}, engine="e"),
    "fail": lambda s, t: lifecycle.fail(s, t, code="pdf_corrupt", message="bad"),
    "dead_letter": lambda s, t: lifecycle.dead_letter(s, t, attempts=3),
    "stop_canceled": lambda s, t: lifecycle.stop_canceled(s, t),
    "cancel_queued": lambda s, t: lifecycle.cancel_queued(s, t),
    "reset_for_retry": lambda s, t: lifecycle.reset_for_retry(s, t),
}


def test_every_move_of_the_table_has_a_function() -> None:
    assert set(MAKE) == set(MOVES)


@pytest.mark.parametrize("name", sorted(MOVES))
@pytest.mark.parametrize("start", list(TaskStatus))
def test_a_move_is_made_from_its_sources_and_refused_from_any_other_state(
    session: Session, name: str, start: TaskStatus
) -> None:
    _task(session, start)
    move = MOVES[name]
    if start in move.sources:
        MAKE[name](session, "tsk_one")
        assert _status(session) == move.target
    else:
        with pytest.raises(TransitionRefused) as refused:
            MAKE[name](session, "tsk_one")
        assert refused.value.current == start
        assert refused.value.status == 409
        assert _status(session) == start  # nothing was written


def test_a_move_on_a_missing_task_is_refused(session: Session) -> None:
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.cancel_queued(session, "tsk_gone")
    assert refused.value.current is None


def test_a_claim_counts_the_attempt_and_leaves_a_live_worker_s_task_alone(session: Session) -> None:
    _task(session, TaskStatus.queued)
    claimed = lifecycle.claim(session, "tsk_one", "w1", utcnow() - timedelta(minutes=5))
    assert (claimed.status, claimed.attempts, claimed.worker) == ("running", 1, "w1")
    with pytest.raises(TransitionRefused):  # its heartbeat is fresh: w1 is alive
        lifecycle.claim(session, "tsk_one", "w2", utcnow() - timedelta(minutes=5))


def test_a_task_whose_cancel_was_requested_is_never_claimed(session: Session) -> None:
    _task(session, TaskStatus.running, cancel_requested=True)
    with pytest.raises(TransitionRefused):
        lifecycle.claim(session, "tsk_one", "w2", utcnow())


def test_a_requeue_after_a_cancel_request_ends_the_task_canceled(session: Session) -> None:
    # issue 19: a DELETE during a slow download, then a fetch timeout, left it queued forever
    _task(session, TaskStatus.running)
    lifecycle.request_cancel(session, "tsk_one")
    reached = lifecycle.requeue(session, "tsk_one", code="fetch_timeout", message="slow", not_before=utcnow())
    assert reached == TaskStatus.canceled
    task = session.get(Task, "tsk_one")
    assert task is not None
    assert (task.status, task.error_code, task.error_message) == (
        "canceled",
        "canceled",
        "canceled by request",
    )
    assert task.finished_at is not None


def test_a_requeue_keeps_the_error_and_the_time_it_may_run_again(session: Session) -> None:
    _task(session, TaskStatus.running)
    later = utcnow() + timedelta(seconds=30)
    assert (
        lifecycle.requeue(session, "tsk_one", code="fetch_failed", message="503", not_before=later)
        == "queued"
    )
    task = session.get(Task, "tsk_one")
    assert task is not None
    assert (task.error_code, task.heartbeat_at) == ("fetch_failed", None)
    assert task.enqueued_at is not None and abs((task.enqueued_at - later).total_seconds()) < 1  # noqa: PT018


def test_a_cancel_is_requested_once_and_only_of_a_running_task(session: Session) -> None:
    task = _task(session, TaskStatus.running)
    lifecycle.request_cancel(session, task.id)
    assert task.cancel_requested is True  # the loaded object sees the write
    assert task.status == "running"
    with pytest.raises(TransitionRefused) as twice:
        lifecycle.request_cancel(session, task.id)
    assert twice.value.code == "cancel_pending"
    _task(session, TaskStatus.queued, "tsk_two")
    with pytest.raises(TransitionRefused):
        lifecycle.request_cancel(session, "tsk_two")


def test_canceling_speaks_with_one_voice(session: Session) -> None:
    _task(session, TaskStatus.queued, "tsk_api")
    _task(session, TaskStatus.running, "tsk_worker")
    _task(session, TaskStatus.queued, "tsk_batch", batch_id="bat_1")
    lifecycle.cancel_queued(session, "tsk_api")
    lifecycle.stop_canceled(session, "tsk_worker")
    lifecycle.cancel_batch_tasks(session, "bat_1")
    endings = session.execute(select(Task.status, Task.error_code, Task.error_message)).all()
    assert set(endings) == {("canceled", "canceled", "canceled by request")}


def test_a_batch_cancel_asks_its_running_tasks_to_stop_and_leaves_others_alone(session: Session) -> None:
    _task(session, TaskStatus.running, "tsk_run", batch_id="bat_1")
    _task(session, TaskStatus.succeeded, "tsk_done", batch_id="bat_1")
    _task(session, TaskStatus.queued, "tsk_other", batch_id="bat_2")
    lifecycle.cancel_batch_tasks(session, "bat_1")
    rows = dict(session.execute(select(Task.id, Task.cancel_requested)).all())
    assert rows == {"tsk_run": True, "tsk_done": False, "tsk_other": False}
    assert [_status(session, t) for t in ("tsk_run", "tsk_done", "tsk_other")] == [
        "running",
        "succeeded",
        "queued",
    ]


def test_dead_letters_say_how_to_retry_whoever_wrote_them(session: Session) -> None:
    _task(session, TaskStatus.running)
    lifecycle.dead_letter(session, "tsk_one", attempts=3)
    task = session.get(Task, "tsk_one")
    assert task is not None
    assert task.error_code == "max_attempts_exceeded"
    assert task.error_message == lifecycle.dead_letter_message(3)
    assert "retry" in (task.error_message or "")
    assert task.dead_lettered_at is not None


def test_a_retry_resets_the_dead_letter_and_the_failed_pages(session: Session) -> None:
    _task(session, TaskStatus.running, attempts=3)
    for number in (1, 2, 3):
        session.add(Page(task_id="tsk_one", number=number, status=PageStatus.pending))
    session.flush()
    lifecycle.record_page_succeeded(
        session, "tsk_one", LayoutPage(number=1, width=1, height=1, status="succeeded", engine="t")
    )
    lifecycle.record_page_failed(session, "tsk_one", 2, "page_failed", "boom")
    lifecycle.dead_letter(session, "tsk_one", attempts=3)

    lifecycle.reset_for_retry(session, "tsk_one")

    task = session.get(Task, "tsk_one")
    assert task is not None
    assert (task.status, task.attempts, task.dead_lettered_at, task.error_code) == ("queued", 0, None, None)
    assert (task.pages_done, task.pages_failed) == (1, 0)
    pages = dict(session.execute(select(Page.number, Page.status).where(Page.task_id == "tsk_one")).all())
    assert pages == {1: "succeeded", 2: "pending", 3: "pending"}


def test_only_a_failed_task_is_retried(session: Session) -> None:
    _task(session, TaskStatus.succeeded)
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.reset_for_retry(session, "tsk_one")
    assert refused.value.code == "task_not_failed"


def test_pages_are_counted_from_their_rows(session: Session) -> None:
    _task(session, TaskStatus.running)
    for number in (1, 2):
        session.add(Page(task_id="tsk_one", number=number, status=PageStatus.pending))
    session.flush()
    page = LayoutPage(number=1, width=1, height=1, status="succeeded", engine="t", truncated=True)
    lifecycle.record_page_succeeded(session, "tsk_one", page)
    lifecycle.record_page_succeeded(session, "tsk_one", page)  # a page run twice counts once
    lifecycle.record_page_failed(session, "tsk_one", 2, "page_too_large", "x" * 5000)
    task = session.get(Task, "tsk_one")
    assert task is not None
    session.refresh(task)
    assert (task.pages_done, task.pages_failed, task.pages_truncated) == (2, 1, 1)
    message = session.scalar(select(Page.error_message).where(Page.number == 2))
    assert message is not None and len(message) == 2000  # noqa: PT018


def test_the_state_diagram_in_the_docs_is_the_table() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "architecture.md").read_text()
    assert f"```\n{lifecycle.diagram()}\n```" in docs
    drawn = {(line.split()[0], line.split()[2]) for line in lifecycle.diagram().splitlines()}
    assert drawn == {(str(a), str(b)) for a, b in lifecycle.ALLOWED}
    assert ("running", "queued") in drawn
