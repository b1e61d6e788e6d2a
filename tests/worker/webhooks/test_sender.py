"""One delivery try against a real local HTTP server: answers, time limits, redirects and the
private-address rules, checked again at every hop."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.outbound.client import OutboundClient
from shared.urls import parse_allowlist
from worker.webhooks.sender import RESPONSE_MAX_CHARS, SendPolicy, post

LOOPBACK = tuple(parse_allowlist("127.0.0.1/32"))


class Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        parts = urlsplit(self.path)
        self.seen.append({"path": parts.path, "host": self.headers["host"], "body": body})
        query = parse_qs(parts.query)
        if parts.path == "/slow":
            time.sleep(3)
        if parts.path == "/redirect":
            self.send_response(307)
            self.send_header("location", query["to"][0])
            self.send_header("content-length", "0")
            self.end_headers()
            return
        status = {"/gone": 410, "/busy": 503}.get(parts.path, 200)
        answer = b"x" * 100_000 if parts.path == "/big" else b"thanks"
        self.send_response(status)
        if status == 503:
            self.send_header("retry-after", "7")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        # the client stops reading a long answer, or has given up on a slow one
        with contextlib.suppress(OSError):
            self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("RecordingHandler", (Handler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def send(
    url: str, timeout_s: float = 5, max_redirects: int = 0, allowlist: tuple[Any, ...] = LOOPBACK
) -> Any:
    with OutboundClient(allowlist) as client:
        return post(client, url, b'{"a":1}', {"webhook-id": "msg_1"}, SendPolicy(timeout_s, max_redirects))


def test_a_2xx_answer_is_ok_with_its_latency_and_body(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    result = send(f"{base}/ok")
    assert result.ok
    assert result.status_code == 200
    assert result.response_body == "thanks"
    assert result.latency_ms is not None
    assert result.latency_ms >= 0
    assert seen[0]["body"] == b'{"a":1}'


def test_error_answers_carry_status_and_retry_after(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, _ = server
    gone = send(f"{base}/gone")
    assert not gone.ok
    assert gone.status_code == 410
    busy = send(f"{base}/busy")
    assert busy.status_code == 503
    assert busy.retry_after == "7"


def test_a_long_answer_is_cut_short(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, _ = server
    assert len(send(f"{base}/big").response_body) == RESPONSE_MAX_CHARS


def test_a_slow_receiver_times_out(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, _ = server
    result = send(f"{base}/slow", timeout_s=0.5)
    assert result.status_code is None
    assert result.error == "timed out after 0.5s"
    assert result.refused_code is None, "a timeout is worth retrying"


def test_a_closed_port_is_a_connection_error(server: tuple[str, list[dict[str, Any]]]) -> None:
    _base, _ = server
    result = send("http://127.0.0.1:9/")
    assert result.status_code is None
    assert "ConnectError" in (result.error or "")


def test_private_targets_are_refused_unless_allowlisted(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    result = send(f"{base}/ok", allowlist=())
    assert result.refused_code == "url_not_allowed"
    assert "127.0.0.1" in (result.error or "")
    assert "OCR_URL_ALLOWLIST" in (result.error or "")
    assert not seen, "nothing was sent"


def test_an_unresolvable_host_is_a_transient_failure() -> None:
    result = send("http://webhooks.nothing.invalid/hook")
    assert result.refused_code is None
    assert "cannot be resolved" in (result.error or "")


def test_the_checked_address_is_used_with_the_original_host(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    port = urlsplit(base).port
    assert send(f"http://localhost:{port}/ok").ok
    assert seen[0]["host"] == f"localhost:{port}"


def test_redirects_are_not_followed_by_default(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    result = send(f"{base}/redirect?to=/ok")
    assert result.status_code == 307
    assert not result.ok
    assert "not followed" in (result.error or "")
    assert [s["path"] for s in seen] == ["/redirect"]


def test_allowed_redirects_repost_and_check_every_hop(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    followed = send(f"{base}/redirect?to=/ok", max_redirects=1)
    assert followed.ok
    assert followed.url == f"{base}/ok"
    assert seen[1]["body"] == b'{"a":1}', "the same signed body goes to the new location"
    port = urlsplit(base).port
    escaped = send(f"{base}/redirect?to=http://127.0.0.2:{port}/ok", max_redirects=1)
    assert escaped.refused_code == "url_not_allowed", "127.0.0.2 is loopback but not allowlisted"
