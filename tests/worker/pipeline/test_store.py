"""The worker's task-row writes under concurrency."""

from __future__ import annotations

import threading

from shared.clock import utcnow
from shared.db.models import Task
from shared.db.session import session_scope
from shared.layout import LayoutPage
from worker.pipeline.store import TaskStore


def test_pages_finishing_at_once_are_all_counted(database_url: str) -> None:
    store = TaskStore(database_url)
    for trial in range(8):
        task_id = f"tsk_race{trial}"
        with session_scope(database_url) as session:
            session.add(
                Task(id=task_id, status="running", source_kind="upload", options={}, created_at=utcnow())
            )
        store.init_pages(task_id, list(range(1, 9)))

        def finish(number: int, task_id: str = task_id) -> None:
            if number % 4 == 0:
                store.page_failed(task_id, number, "page_failed", "boom")
            else:
                page = LayoutPage(
                    number=number, width=10, height=10, status="succeeded", engine="t", truncated=number == 3
                )
                store.page_succeeded(task_id, page)

        threads = [threading.Thread(target=finish, args=(n,)) for n in range(1, 9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with session_scope(database_url) as session:
            task = session.get(Task, task_id)
            assert task is not None
            assert (task.pages_done, task.pages_failed, task.pages_truncated) == (8, 2, 1)
