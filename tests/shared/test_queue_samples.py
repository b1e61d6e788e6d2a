"""Queue depth now (broker + database) and its recorded history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from shared import queue_samples
from shared.clock import utcnow
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope


def _task(queue: str, status: TaskStatus) -> Task:
    return Task(queue=queue, status=status, source_kind="upload", options={})


def test_current_load_joins_broker_depth_and_task_counts(database_url: str) -> None:
    with session_scope(database_url) as session:
        session.add_all(
            [
                _task("ocr.batch", TaskStatus.queued),
                _task("ocr.batch", TaskStatus.queued),
                _task("ocr.batch", TaskStatus.running),
                _task("ocr.interactive", TaskStatus.succeeded),
                _task("ocr.custom", TaskStatus.queued),
            ]
        )
    depths = {"ocr.interactive": 0, "ocr.batch": 2}
    with session_scope(database_url) as session:
        loads = queue_samples.current_load(session, ["ocr.interactive", "ocr.batch"], depths.get)
    by_queue = {load.queue: load for load in loads}
    assert [load.queue for load in loads] == ["ocr.interactive", "ocr.batch", "ocr.custom"]
    assert by_queue["ocr.batch"] == queue_samples.QueueLoad("ocr.batch", 2, 2, 1)
    assert by_queue["ocr.interactive"] == queue_samples.QueueLoad("ocr.interactive", 0, 0, 0)
    # a queue the broker cannot report on keeps its task counts
    assert by_queue["ocr.custom"] == queue_samples.QueueLoad("ocr.custom", None, 1, 0)


def test_samples_are_recorded_read_back_in_order_and_pruned(database_url: str) -> None:
    now = utcnow()
    with session_scope(database_url) as session:
        for minutes_ago, depth in [(90, 9), (30, 5), (1, 2)]:
            at = now - timedelta(minutes=minutes_ago)
            queue_samples.record(session, at, [queue_samples.QueueLoad("ocr.batch", depth, depth, 1)])
    with session_scope(database_url) as session:
        recent = queue_samples.history(session, now - timedelta(hours=1))
        assert [s.depth for s in recent] == [5, 2]
        assert queue_samples.prune(session, now, keep_s=3600) == 1
    with session_scope(database_url) as session:
        assert len(queue_samples.history(session, now - timedelta(days=1))) == 2
