"""HEAD on the read routes answers as GET would, without a body, and needs the `read` scope."""

from __future__ import annotations

from tests.documents import text_pdf
from tests.fixtures.stack import Stack


def test_head_answers_like_get_without_the_body(embedded_stack: Stack) -> None:
    created = embedded_stack.api.post("/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["a"]))})
    task = f"/v1/tasks/{created.json()['id']}"
    reader = embedded_stack.client(embedded_stack.new_key("default", "read"))
    for path in (task, "/v1/tasks", f"{task}/pages", "/healthz", "/openapi.json"):
        got, head = reader.get(path), reader.head(path)
        assert head.status_code == got.status_code == 200, (path, head.text)
        assert head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == got.headers["content-type"]
    assert reader.head(task).headers["retry-after"]  # a queued task: the poll hint too
    # an error keeps its status
    assert reader.head(f"{task}/result.md").status_code == 409
    assert reader.head("/v1/tasks/tsk_01jd3k9zzzzzzzzzzzzzzzzzzz").status_code == 404


def test_head_is_a_read(embedded_stack: Stack) -> None:
    task = embedded_stack.api.post("/v1/tasks", json={"url": "http://127.0.0.1:9/a.pdf"}).json()["id"]
    submitter = embedded_stack.client(embedded_stack.new_key("default", "submit"))
    refused = submitter.head(f"/v1/tasks/{task}")
    assert refused.status_code == 403
    assert embedded_stack.client(None).head(f"/v1/tasks/{task}").status_code == 401


def test_head_of_an_event_stream_ends_at_once(embedded_stack: Stack) -> None:
    task = embedded_stack.api.post("/v1/tasks", json={"url": "http://127.0.0.1:9/a.pdf"}).json()["id"]
    # the task stays queued (no worker): a GET would stream until it ends
    response = embedded_stack.api.head(f"/v1/tasks/{task}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b""
