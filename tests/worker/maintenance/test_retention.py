"""Retention on S3: inputs and results are deleted from the bucket once their time is up, the
task row stays and says so, result routes answer 410 `result_expired`; DELETE purges a task's
every object at once."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

from sqlalchemy import update

from shared.clock import utcnow
from shared.db.models import Task, TaskStatus
from shared.db.session import session_scope
from shared.storage import make_storage
from shared.storage.keys import layout_key, markdown_key, page_checkpoint_key
from tests.documents import text_pdf
from tests.fixtures.stack import Stack
from worker.maintenance.retention import expire


def _succeeded_task(stack: Stack, filename: str, finished_days_ago: float) -> str:
    """An uploaded task made to look finished, with result objects in the bucket."""
    response = stack.api.post("/v1/tasks/upload", files={"file": (filename, text_pdf(["kept a while"]))})
    task_id = str(response.json()["id"])
    storage = make_storage(stack.settings)
    storage.put_bytes(markdown_key(task_id), b"<!-- page 1 -->\n\nkept a while", "text/markdown")
    storage.put_bytes(layout_key(task_id), b"{}", "application/json")
    storage.put_bytes(page_checkpoint_key(task_id, 1), b"{}", "application/json")
    storage.put_bytes(f"tasks/{task_id}/results/images/1_1.jpg", b"\xff\xd8\xff", "image/jpeg")
    with session_scope(stack.settings.database_url) as session:
        session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(
                status=TaskStatus.succeeded,
                finished_at=utcnow() - timedelta(days=finished_days_ago),
                result_keys={"markdown": markdown_key(task_id), "images": ["1_1.jpg"]},
            )
        )
    return task_id


def _keys(stack: Stack, task_id: str) -> set[str]:
    prefix = f"tasks/{task_id}/"
    return {key.removeprefix(prefix) for key in make_storage(stack.settings).list_keys(prefix)}


def test_inputs_then_results_expire_on_s3(production_stack: Stack) -> None:
    stack = production_stack
    old = _succeeded_task(stack, "Résumé.pdf", finished_days_ago=1)
    fresh = _succeeded_task(stack, "fresh.pdf", finished_days_ago=0)
    assert _keys(stack, old) == {
        "input.pdf",
        "results/full.md",
        "results/layout.json",
        "results/images/1_1.jpg",
        "pages/00001.json",
    }
    download = stack.api.get(f"/v1/tasks/{old}/result.md")
    assert download.status_code == 200
    assert unquote(download.headers["content-disposition"].split("filename*=UTF-8''")[1]) == "Résumé.md"

    storage = make_storage(stack.settings)
    # a week later (OCR_INPUT_RETENTION_S, 7 days by default) the input is gone, results stay
    counts = expire(stack.settings, storage, now=utcnow() + timedelta(days=6, hours=12))
    assert counts["inputs"] == 1
    assert counts["results"] == 0
    assert "input.pdf" not in _keys(stack, old)
    assert "input.pdf" in _keys(stack, fresh)
    assert stack.api.get(f"/v1/tasks/{old}/result.md").status_code == 200

    # a month later (OCR_RESULT_RETENTION_S, 30 days) the results go too
    a_month_later = utcnow() + timedelta(days=29, hours=12)
    counts = expire(stack.settings, storage, now=a_month_later)
    assert counts["results"] == 1
    assert _keys(stack, old) == set()
    task = stack.api.get(f"/v1/tasks/{old}").json()
    assert task["status"] == "succeeded"
    assert task["results_expired_at"]
    assert task["result"] is None
    for path in ("result.md", "result.json", "result.zip", "images/1_1.jpg"):
        response = stack.api.get(f"/v1/tasks/{old}/{path}")
        assert response.status_code == 410, path
        assert response.json()["error"]["code"] == "result_expired"
    assert len(_keys(stack, fresh)) == 4  # finished today: only its input went
    assert expire(stack.settings, storage, now=a_month_later)["results"] == 0  # done once


def test_a_task_whose_data_expired_cannot_be_retried(production_stack: Stack) -> None:
    stack = production_stack
    task_id = _succeeded_task(stack, "a.pdf", finished_days_ago=40)
    with session_scope(stack.settings.database_url) as session:
        session.execute(update(Task).where(Task.id == task_id).values(status=TaskStatus.failed))
    expire(stack.settings, make_storage(stack.settings))
    response = stack.api.post(f"/v1/tasks/{task_id}/retry")
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "input_expired"


def test_delete_purges_every_object_of_a_task_on_s3(production_stack: Stack) -> None:
    stack = production_stack
    task_id = _succeeded_task(stack, "gone.pdf", finished_days_ago=0)
    keep = _succeeded_task(stack, "kept.pdf", finished_days_ago=0)
    assert len(_keys(stack, task_id)) == 5
    assert stack.api.delete(f"/v1/tasks/{task_id}").status_code == 204
    assert _keys(stack, task_id) == set()
    assert len(_keys(stack, keep)) == 5
    assert stack.api.get(f"/v1/tasks/{task_id}").status_code == 404
