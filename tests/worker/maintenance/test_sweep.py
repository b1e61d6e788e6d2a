"""The sweep (Celery beat) on real rows and a real broker: a task whose worker stopped
heartbeating goes back to the queue, or to the dead-letter state once its attempts ran out; a
queued task whose message was lost is sent again while its queue is empty."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.queue import QUEUE_INTERACTIVE, make_celery, queue_depth
from tests.documents import text_pdf
from tests.fixtures.stack import Stack
from worker.maintenance.sweep import sweep


def _task(stack: Stack, **values: Any) -> str:
    response = stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))})
    task_id = str(response.json()["id"])
    with session_scope(stack.settings.database_url) as session:
        session.execute(update(Task).where(Task.id == task_id).values(**values))
    return task_id


def _drain(app) -> None:  # type: ignore[no-untyped-def]
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE_INTERACTIVE)


def test_the_sweep_requeues_stale_tasks_and_dead_letters_exhausted_ones(embedded_stack: Stack) -> None:
    settings = embedded_stack.settings
    app = make_celery(settings)
    long_ago = utcnow() - timedelta(seconds=settings.task_stale_after_s * 3)
    stale = _task(embedded_stack, status=TaskStatus.running, heartbeat_at=long_ago, attempts=1)
    exhausted = _task(
        embedded_stack, status=TaskStatus.running, heartbeat_at=long_ago, attempts=settings.task_max_attempts
    )
    alive = _task(embedded_stack, status=TaskStatus.running, heartbeat_at=utcnow(), attempts=1)
    _drain(app)

    counts = sweep(settings, app)

    assert counts["requeued_stale"] == 1
    assert counts["dead_lettered"] == 1
    get = embedded_stack.api.get
    assert get(f"/v1/tasks/{stale}").json()["status"] == "queued"
    assert queue_depth(app, QUEUE_INTERACTIVE) == 1  # its wake-up call was sent
    dead = get(f"/v1/tasks/{exhausted}").json()
    assert dead["status"] == "failed"
    assert dead["error"]["code"] == "max_attempts_exceeded"
    assert "retry" in dead["error"]["message"]
    assert dead["dead_lettered_at"]
    assert get(f"/v1/tasks/{alive}").json()["status"] == "running"
    assert [t["id"] for t in get("/v1/admin/dead-letters").json()["data"]] == [exhausted]


def test_lost_messages_are_sent_again_only_while_the_queue_is_empty(embedded_stack: Stack) -> None:
    settings = embedded_stack.settings
    app = make_celery(settings)
    old = utcnow() - timedelta(seconds=settings.requeue_queued_after_s * 3)
    lost = _task(embedded_stack, enqueued_at=old)
    _drain(app)
    app.send_task("ocr.process", args=["tsk_someone_else_s_message"], queue=QUEUE_INTERACTIVE)

    assert sweep(settings, app)["resent"] == 0  # a message is waiting: nothing was lost yet
    _drain(app)
    assert sweep(settings, app)["resent"] == 1
    assert queue_depth(app, QUEUE_INTERACTIVE) == 1
    assert embedded_stack.api.get(f"/v1/tasks/{lost}").json()["status"] == "queued"


def test_lost_messages_are_sent_again_through_redis(tmp_path, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    # Redis keeps no empty queues: "no such queue" must read as "nothing waiting", or a message
    # lost with a flushed Redis would never be sent again
    from tests.fixtures.stack import build_stack

    stack = build_stack("sweep-redis", tmp_path, broker_url=redis_url)
    try:
        app = make_celery(stack.settings)
        assert queue_depth(app, "never-used-queue") == 0
        old = utcnow() - timedelta(seconds=stack.settings.requeue_queued_after_s * 3)
        lost = _task(stack, enqueued_at=old)
        _drain(app)
        assert sweep(stack.settings, app)["resent"] == 1
        assert queue_depth(app, QUEUE_INTERACTIVE) == 1
        assert stack.api.get(f"/v1/tasks/{lost}").json()["status"] == "queued"
    finally:
        stack.close()


def test_a_queued_task_left_with_its_cancel_requested_is_canceled(embedded_stack: Stack) -> None:
    # what a requeue after a cancel request left behind before the lifecycle ended such tasks:
    # nothing claims a task whose cancel was requested, so it stayed queued forever
    settings = embedded_stack.settings
    app = make_celery(settings)
    stuck = _task(embedded_stack, cancel_requested=True)
    waiting = _task(embedded_stack, enqueued_at=utcnow())
    _drain(app)

    assert sweep(settings, app)["canceled"] == 1

    get = embedded_stack.api.get
    canceled = get(f"/v1/tasks/{stuck}").json()
    assert canceled["status"] == "canceled"
    assert canceled["error"] == {"code": "canceled", "message": "canceled by request"}
    assert get(f"/v1/tasks/{waiting}").json()["status"] == "queued"
    assert sweep(settings, app)["canceled"] == 0
