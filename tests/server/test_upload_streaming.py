"""The upload limit holds while the body streams: a chunked upload with no Content-Length gets its
413 as soon as it passes the limit, long before the client has sent everything, and the API's
memory stays flat."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures.stack import build_stack

pytestmark = pytest.mark.slow

LIMIT = 1_000_000
CHUNK = 64 * 1024
OFFERED = 128 * 1024 * 1024


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _stream_until_answered(url: str) -> tuple[bytes, int]:
    """Send a chunked multipart upload piece by piece; stop as soon as the server answers.
    Returns the response bytes and how many body bytes were sent by then."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = (
        "POST /v1/tasks/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: multipart/form-data; boundary=BOUNDARY\r\n\r\n"
    )
    preamble = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\n\r\n%PDF-1.7\n'
    )
    sock.sendall(head.encode() + b"%x\r\n%s\r\n" % (len(preamble), preamble))
    sent = 0
    payload = b"%x\r\n%s\r\n" % (CHUNK, b"0" * CHUNK)
    while sent < OFFERED:
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            break
        if writable:
            sock.sendall(payload)
            sent += CHUNK
    response = b""
    while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
        data = sock.recv(65536)
        if not data:
            break
        response += data
    sock.close()
    return response, sent


def test_chunked_upload_past_the_limit_is_refused_while_streaming(tmp_path: Path) -> None:
    stack = build_stack("stream", tmp_path, max_upload_bytes=LIMIT)
    try:
        server, url = stack.start_api_server()
        httpx.get(f"{url}/healthz")
        peak_before = _peak_rss(server.proc.pid)

        response, sent = _stream_until_answered(url)

        status_line, _, rest = response.partition(b"\r\n")
        assert b" 413 " in status_line, response[:300]
        body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
        assert body["error"]["code"] == "payload_too_large"
        assert sent < 8 * LIMIT, f"the 413 came only after {sent:,} bytes"
        growth = _peak_rss(server.proc.pid) - peak_before
        assert growth < 40 * 1024 * 1024, f"API peak memory grew by {growth:,} bytes"
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/v1/tasks").json()["data"] == []
    finally:
        stack.close()
