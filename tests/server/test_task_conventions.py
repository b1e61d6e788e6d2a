"""API conventions of the task routes, on the embedded stack without a worker: cancel apart from
delete, queue position and Retry-After on polls, the `?wait=` long-poll, unknown form fields,
client metadata and filenames of URL tasks."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tests.documents import text_pdf
from tests.fixtures.stack import Stack
from tests.fixtures.webhook_receiver import TEST_SECRET

SOURCE = {"url": "http://127.0.0.1:9/doc.pdf"}


def _upload(stack: Stack, **form: str) -> Any:
    return stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))}, data=form)


def _submit(stack: Stack, **body: Any) -> dict[str, Any]:
    response = stack.api.post("/v1/tasks", json={**SOURCE, **body})
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_delete_refuses_queued_work_and_cancel_keeps_the_task(embedded_stack: Stack) -> None:
    task_id = _submit(embedded_stack)["id"]
    refused = embedded_stack.api.delete(f"/v1/tasks/{task_id}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "task_not_finished"
    assert f"POST /v1/tasks/{task_id}/cancel" in refused.json()["error"]["message"]
    assert embedded_stack.api.get(f"/v1/tasks/{task_id}").json()["status"] == "queued"

    canceled = embedded_stack.api.post(f"/v1/tasks/{task_id}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    again = embedded_stack.api.post(f"/v1/tasks/{task_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "task_finished"
    assert embedded_stack.api.get(f"/v1/tasks/{task_id}").json()["status"] == "canceled"  # kept

    assert embedded_stack.api.delete(f"/v1/tasks/{task_id}").status_code == 204
    assert embedded_stack.api.get(f"/v1/tasks/{task_id}").status_code == 404


def test_a_queued_task_tells_its_place_in_the_queue_and_when_to_poll_again(embedded_stack: Stack) -> None:
    ids = [_submit(embedded_stack)["id"] for _ in range(3)]
    first = embedded_stack.api.get(f"/v1/tasks/{ids[0]}")
    third = embedded_stack.api.get(f"/v1/tasks/{ids[2]}")
    assert first.json()["queue_position"] == 0
    assert third.json()["queue_position"] == 2
    assert int(first.headers["retry-after"]) < int(third.headers["retry-after"])

    embedded_stack.api.post(f"/v1/tasks/{ids[0]}/cancel")
    assert embedded_stack.api.get(f"/v1/tasks/{ids[2]}").json()["queue_position"] == 1
    canceled = embedded_stack.api.get(f"/v1/tasks/{ids[0]}")
    assert canceled.json()["queue_position"] is None
    assert "retry-after" not in canceled.headers
    # lists stay one query: no position there
    assert {t["queue_position"] for t in embedded_stack.api.get("/v1/tasks").json()["data"]} == {None}


def test_wait_answers_with_the_state_when_the_time_is_up(embedded_stack: Stack) -> None:
    task_id = _submit(embedded_stack)["id"]
    started = time.monotonic()
    response = embedded_stack.api.get(f"/v1/tasks/{task_id}", params={"wait": 0.5})
    assert time.monotonic() - started >= 0.5
    assert response.status_code == 200
    assert response.json()["status"] == "queued"


def test_wait_answers_as_soon_as_the_task_ends(embedded_stack: Stack) -> None:
    task_id = _submit(embedded_stack)["id"]
    answers: list[Any] = []
    poll = threading.Thread(
        target=lambda: answers.append(embedded_stack.api.get(f"/v1/tasks/{task_id}", params={"wait": 30}))
    )
    started = time.monotonic()
    poll.start()
    assert embedded_stack.api.post(f"/v1/tasks/{task_id}/cancel").status_code == 200
    poll.join(timeout=40)
    assert time.monotonic() - started < 20  # woken by the end, not by the deadline
    assert answers[0].status_code == 200
    assert answers[0].json()["status"] == "canceled"


@pytest.mark.parametrize("wait", ["61", "-1", "soon"])
def test_wait_is_bounded(embedded_stack: Stack, wait: str) -> None:
    task_id = _submit(embedded_stack)["id"]
    response = embedded_stack.api.get(f"/v1/tasks/{task_id}", params={"wait": wait})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_an_unknown_form_field_gets_the_same_422_as_an_unknown_json_member(embedded_stack: Stack) -> None:
    form = _upload(embedded_stack, page="1")
    body = embedded_stack.api.post("/v1/tasks", json={**SOURCE, "page": "1"})
    assert form.status_code == body.status_code == 422
    assert form.json()["error"]["code"] == body.json()["error"]["code"] == "validation_error"
    assert form.json()["details"][0]["loc"] == body.json()["details"][0]["loc"] == ["body", "page"]
    assert form.json()["details"][0]["type"] == body.json()["details"][0]["type"] == "extra_forbidden"
    assert embedded_stack.api.get("/v1/tasks").json()["data"] == []  # nothing was created

    batch = embedded_stack.api.post(
        "/v1/batches/upload",
        files={"file": ("urls.txt", b"http://127.0.0.1:9/a.pdf\n")},
        data={"mod": "base"},
    )
    assert batch.status_code == 422
    assert batch.json()["details"][0]["loc"] == ["body", "mod"]


def test_the_known_form_fields_still_work(embedded_stack: Stack) -> None:
    response = _upload(embedded_stack, mode="base", pages="1", dpi="", webhook_url="")
    assert response.status_code == 202, response.text
    assert response.json()["options"] == {"mode": "base", "prompt": "document", "pages": "1"}


def test_metadata_is_stored_and_echoed_in_the_task_lists_and_webhooks(embedded_stack: Stack) -> None:
    embedded_stack.settings.webhook_secrets = TEST_SECRET
    metadata = {"order": "A-17", "customer": 42, "rush": True, "note": None}
    task = _submit(embedded_stack, metadata=metadata, webhook_url="http://127.0.0.1:9/hook")
    assert task["metadata"] == metadata
    assert embedded_stack.api.get(f"/v1/tasks/{task['id']}").json()["metadata"] == metadata
    assert embedded_stack.api.get("/v1/tasks").json()["data"][0]["metadata"] == metadata

    embedded_stack.api.post(f"/v1/tasks/{task['id']}/cancel")
    [delivery] = embedded_stack.api.get(f"/v1/tasks/{task['id']}/webhook-deliveries").json()["data"]
    assert delivery["payload"]["data"]["metadata"] == metadata

    uploaded = _upload(embedded_stack, metadata=json.dumps({"order": "B-2"}))
    assert uploaded.status_code == 202, uploaded.text
    assert uploaded.json()["metadata"] == {"order": "B-2"}
    assert _submit(embedded_stack)["metadata"] is None


@pytest.mark.parametrize(
    "metadata",
    [
        {"nested": {"a": 1}},
        {"list": [1, 2]},
        {f"k{i}": i for i in range(33)},
        {"long": "x" * 513},
        {"k" * 65: 1},
        {f"k{i}": "x" * 500 for i in range(20)},  # 10 KB in all
    ],
)
def test_metadata_is_flat_and_small(embedded_stack: Stack, metadata: dict[str, Any]) -> None:
    body = embedded_stack.api.post("/v1/tasks", json={**SOURCE, "metadata": metadata})
    assert body.status_code == 422, body.text
    assert body.json()["error"]["code"] == "validation_error"
    form = _upload(embedded_stack, metadata=json.dumps(metadata))
    assert form.status_code == 422, form.text
    assert form.json()["error"]["code"] == "invalid_metadata"


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"a string"', "[" * 5000])
def test_form_metadata_must_be_a_json_object(embedded_stack: Stack, text: str) -> None:
    response = _upload(embedded_stack, metadata=text)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_metadata"


@pytest.mark.parametrize(
    ("source", "filename"),
    [
        ({"url": "http://127.0.0.1:9/papers/a%20b.pdf?x=1"}, "a b.pdf"),
        ({"url": "http://127.0.0.1:9/"}, None),
        ({"url": "http://127.0.0.1:9/x.pdf", "filename": "given.pdf"}, "given.pdf"),
    ],
)
def test_a_url_task_is_named_after_its_url(  # s3:// keys: tests/shared/test_filenames.py
    embedded_stack: Stack, source: dict[str, str], filename: str | None
) -> None:
    response = embedded_stack.api.post("/v1/tasks", json=source)
    assert response.status_code == 202, response.text
    assert response.json()["source"]["filename"] == filename
