"""The API's task service against a worker racing it, on plain sessions: the request holds the
row as it read it, the worker's write lands in between, and the lifecycle's conditional moves
make the request act on the row as it is now."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.tasks.service import cancel_or_delete
from shared.clock import utcnow
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.storage.local import LocalStorage
from shared.tasks import lifecycle


def _queued(database_url: str) -> str:
    with session_scope(database_url) as session:
        session.add(Task(id="tsk_race", status=TaskStatus.queued, source_kind="upload", options={}))
    return "tsk_race"


def test_a_delete_that_loses_the_race_to_a_claim_asks_the_worker_to_stop(
    database_url: str, tmp_path: Path
) -> None:
    task_id = _queued(database_url)
    with session_scope(database_url) as request:
        task = request.get(Task, task_id)
        assert task is not None and task.status == "queued"  # noqa: PT018
        request.commit()  # the request's read is over; the worker claims the task now
        with session_scope(database_url) as worker:
            lifecycle.claim(worker, task_id, "w1", utcnow())

        assert cancel_or_delete(request, LocalStorage(tmp_path), task) == "cancel_requested"
        assert (task.status, task.cancel_requested) == ("running", True)
    with session_scope(database_url) as session:
        assert session.get(Task, task_id) is not None  # asked to stop, never deleted


def test_a_delete_of_a_queued_task_cancels_it_with_the_one_message(database_url: str, tmp_path: Path) -> None:
    task_id = _queued(database_url)
    with session_scope(database_url) as request:
        task = request.get(Task, task_id)
        assert task is not None
        assert cancel_or_delete(request, LocalStorage(tmp_path), task) == "canceled"
        assert (task.status, task.error_code, task.error_message) == (
            "canceled",
            lifecycle.CANCELED_CODE,
            lifecycle.CANCELED_MESSAGE,
        )


def test_a_cancel_of_a_task_that_ended_meanwhile_is_refused_not_a_delete(
    database_url: str, tmp_path: Path
) -> None:
    task_id = _queued(database_url)
    with session_scope(database_url) as request:
        task = request.get(Task, task_id)
        assert task is not None
        request.commit()
        with session_scope(database_url) as worker:
            lifecycle.claim(worker, task_id, "w1", utcnow())
            lifecycle.succeed(worker, task_id, result_keys={"markdown": "k"}, engine="e")

        with pytest.raises(lifecycle.TransitionRefused) as refused:
            cancel_or_delete(request, LocalStorage(tmp_path), task)
        assert refused.value.status == 409
    with session_scope(database_url) as session:
        kept = session.get(Task, task_id)
        assert kept is not None and kept.status == "succeeded"  # noqa: PT018
