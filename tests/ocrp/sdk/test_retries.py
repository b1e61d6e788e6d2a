"""Retries over real HTTP: a loopback server that answers 503/429 with Retry-After before it
serves, and a closed port. Waits go through an injected sleep, so nothing sleeps for real."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ocrp.sdk import Client, ConnectionFailed, RateLimited, RetryPolicy, Unavailable
from tests.fixtures.services import free_port

TASK = {
    "object": "task", "id": "tsk_retry", "owner": "default", "status": "queued",
    "source": {"kind": "url", "filename": None, "uri": "https://example.com/a.pdf", "content_type": None,
               "size_bytes": None, "sha256": None, "page_count": None},
    "options": {}, "progress": {"pages_done": 0, "pages_total": None, "pages_failed": 0, "pages_truncated": 0, "percent": None},
    "timings": {"created_at": "2026-12-04T12:00:00Z", "started_at": None, "finished_at": None,
                "queued_s": None, "run_s": None, "total_s": None},
    "attempts": 0, "engine": None, "error": None, "result": None, "webhook_url": None, "cancel_requested": False,
    "dead_lettered_at": None, "results_expired_at": None, "batch_id": None, "reused_from": None, "metadata": None,
}  # fmt: skip


@dataclass
class Script:
    """Answers to give in order (status, Retry-After); then 202/200 with the task."""

    failures: list[tuple[int, str | None]]
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def flaky() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            script.seen.append((self.command, dict(self.headers)))
            if script.failures:
                status, retry_after = script.failures.pop(0)
                body = json.dumps({"error": {"code": "busy", "message": "come back later"}}).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
            else:
                body = json.dumps(TASK).encode()
                self.send_response(202 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def test_503_and_429_are_retried_honouring_retry_after_with_one_idempotency_key(
    flaky: tuple[str, Script],
) -> None:
    url, script = flaky
    script.failures = [(503, "2"), (429, "1")]
    waits: list[float] = []
    with Client(url, "ocrp_test", sleep=waits.append) as client:
        task = client.submit("https://example.com/a.pdf", mode="base")
    assert task.id == "tsk_retry"
    assert waits == [2.0, 1.0]
    keys = {headers["Idempotency-Key"] for _, headers in script.seen}
    assert len(script.seen) == 3
    assert len(keys) == 1


def test_retries_stop_after_the_policy_s_attempts_and_raise_the_typed_error(
    flaky: tuple[str, Script],
) -> None:
    url, script = flaky
    script.failures = [(503, None)] * 5
    waits: list[float] = []
    client = Client(url, "k", retry=RetryPolicy(attempts=3, backoff_s=0.1), sleep=waits.append)
    with client, pytest.raises(Unavailable) as raised:
        client.task("tsk_retry")
    assert raised.value.code == "busy"
    assert raised.value.status == 503
    assert waits == [0.1, 0.2]
    assert len(script.seen) == 3


def test_a_rate_limit_past_the_last_attempt_carries_retry_after(flaky: tuple[str, Script]) -> None:
    url, script = flaky
    script.failures = [(429, "9")]
    with Client(url, "k", retry=RetryPolicy(attempts=1)) as client, pytest.raises(RateLimited) as raised:
        client.task("tsk_retry")
    assert raised.value.retry_after == 9.0


def test_reads_are_retried_after_a_refused_connection_then_fail_cleanly() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    waits: list[float] = []
    client = Client(url, "k", retry=RetryPolicy(attempts=3, backoff_s=0.5), sleep=waits.append)
    with client, pytest.raises(ConnectionFailed, match="could not reach the API"):
        client.task("tsk_x")
    assert waits == [0.5, 1.0]


def test_a_cancel_is_not_resent_after_a_connection_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    waits: list[float] = []
    with Client(url, "k", sleep=waits.append) as client, pytest.raises(ConnectionFailed):
        client.cancel("tsk_x")
    assert waits == []
