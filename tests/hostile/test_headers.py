"""Request header size, count and time, and idle connections, bounded by `ocrp serve` itself
before any route or key check. A real uvicorn process, spoken to over raw loopback sockets."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.stack import ProcessHandle, Stack, build_stack

pytestmark = pytest.mark.slow
HEADER_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProcessHandle, tuple[str, int]]]:
    stack: Stack = build_stack("headers", tmp_path_factory.mktemp("headers"))
    stack.settings.api_header_timeout_s = HEADER_TIMEOUT_S
    stack.settings.api_keep_alive_s = 1
    handle, url = stack.start_api_server()
    host, port = url.removeprefix("http://").split(":")
    yield handle, (host, int(port))
    stack.close()


def connect(address: tuple[str, int], timeout: float = 10) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or the socket's timeout)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def request(path: str, headers: list[str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode()


def test_a_normal_request_is_answered(api: tuple[ProcessHandle, tuple[str, int]]) -> None:
    with connect(api[1]) as sock:
        sock.sendall(request("/healthz", []))
        assert status_of(read_all(sock)) == 200


def test_megabytes_of_headers_are_refused_before_the_key_check_and_not_kept(
    api: tuple[ProcessHandle, tuple[str, int]],
) -> None:
    handle, address = api
    before = rss_kib(handle.proc.pid)
    for path in ("/healthz", "/v1/tasks"):  # /v1/tasks would answer 401 to a request without a key
        with connect(address) as sock:
            head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            filler = b"X-Filler: " + b"a" * 8000 + b"\r\n"
            sent = 0
            try:
                sock.sendall(head)
                while sent < 20 * 1024 * 1024:  # 20 MiB of headers, if the server lets them in
                    sock.sendall(filler)
                    sent += len(filler)
                sock.sendall(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server closed on us: what we want
            answer = read_all(sock)
        assert status_of(answer) in (0, 400), answer[:200]
        # loopback socket buffers take a few MiB more before the closed connection shows
        assert sent < 10 * 1024 * 1024, f"the server took {sent:,} bytes of headers"
    grown = rss_kib(handle.proc.pid) - before
    assert grown < 10 * 1024, f"the API kept {grown} KiB more memory"


def test_too_many_header_fields_get_431(api: tuple[ProcessHandle, tuple[str, int]]) -> None:
    with connect(api[1]) as sock:
        sock.sendall(request("/v1/tasks", [f"X-H{i}: v" for i in range(150)]))
        answer = read_all(sock)
    assert status_of(answer) == 431
    assert b"too_many_headers" in answer


def test_an_idle_new_connection_is_answered_408_and_closed(
    api: tuple[ProcessHandle, tuple[str, int]],
) -> None:
    started = time.monotonic()
    with connect(api[1]) as sock:
        answer = read_all(sock)  # we send nothing
    assert status_of(answer) == 408
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 5


def test_slow_headers_are_cut_off_at_the_deadline(api: tuple[ProcessHandle, tuple[str, int]]) -> None:
    started = time.monotonic()
    with connect(api[1]) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for _ in range(40):  # a header byte every 0.25 s, for up to 10 s
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.25)
            try:
                if sock.recv(65536) is not None:
                    closed = True
                    break
            except TimeoutError:
                continue
    assert closed, "the slow client was never cut off"
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 5


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_request(
    api: tuple[ProcessHandle, tuple[str, int]],
) -> None:
    with connect(api[1]) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(65536)
        assert status_of(first) == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 1")  # and then nothing more
        started = time.monotonic()
        rest = read_all(sock)
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 5
    assert b"200" not in rest
