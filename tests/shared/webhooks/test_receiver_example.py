"""The receiver example of docs/webhooks.md: the page shows exactly the tested file, and the
example refuses forged requests and handles a repeated webhook-id once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from shared.clock import utcnow
from shared.webhooks.payload import body_of, envelope
from shared.webhooks.signing import new_secret, signed_headers
from tests.fixtures.webhook_receiver import EXAMPLE, TEST_SECRET, load_example

DOCS = EXAMPLE.parents[1] / "webhooks.md"


def test_the_docs_page_embeds_the_tested_example_verbatim() -> None:
    assert f"```python\n{EXAMPLE.read_text()}```" in DOCS.read_text()


@pytest.fixture
def example_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    example = load_example()
    handled: list[dict[str, Any]] = []

    class Handler(example.WebhookHandler):  # type: ignore[misc, name-defined]
        secret = TEST_SECRET
        seen_ids: set[str] = set()

        def accept(self, webhook_id: str, event: dict[str, Any]) -> int:
            if webhook_id not in self.seen_ids:
                handled.append(event)
            return int(super().accept(webhook_id, event))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handled
    server.shutdown()
    server.server_close()


def test_the_example_accepts_once_and_refuses_forgeries(
    example_server: tuple[str, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, handled = example_server
    body = body_of(envelope("task.failed", utcnow(), {"id": "tsk_1", "status": "failed"}))
    headers = signed_headers([TEST_SECRET], "msg_1", utcnow(), body)
    assert httpx.post(url, content=body, headers=headers).status_code == 204
    assert httpx.post(url, content=body, headers=headers).status_code == 204, "a repeat is acknowledged"
    assert len(handled) == 1, "and handled once"
    assert "task.failed tsk_1 failed None" in capsys.readouterr().out

    forged = signed_headers([new_secret()], "msg_2", utcnow(), body)
    assert httpx.post(url, content=body, headers=forged).status_code == 400
    tampered = body.replace("failed", "succeeded")
    assert httpx.post(url, content=tampered, headers=headers).status_code == 400
    assert len(handled) == 1
