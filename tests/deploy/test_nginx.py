"""deploy/nginx/ocrp.conf: valid for nginx (`nginx -t`), and in front of a real API it passes
Server-Sent Events through as they are written, keeps idle streams open, and lets the API see a
client that leaves (which cancels the client's task). Needs nginx (Debian's nginx-light; CI
installs it); skipped, saying so, where it is missing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.documents import text_pdf
from tests.fixtures.services import free_port, port_open, wait_for
from tests.fixtures.sse import SseReader
from tests.fixtures.stack import Stack, build_stack, keyed

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ocrp.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


def nginx_config(folder: Path, upstream_port: int, listen_port: int) -> Path:
    """The example as it ships, pointed at a test API and port, inside a minimal main config."""
    example = EXAMPLE.read_text()
    assert "    server 127.0.0.1:8000;\n" in example
    assert "    listen 80;\n" in example
    site = example.replace("    server 127.0.0.1:8000;\n", f"    server 127.0.0.1:{upstream_port};\n")
    site = site.replace("    listen 80;\n", f"    listen 127.0.0.1:{listen_port};\n")
    (folder / "ocrp.conf").write_text(site)
    temp = folder / "temp"
    temp.mkdir(mode=0o777)
    temp.chmod(0o777)  # nginx's workers drop root
    main = folder / "nginx.conf"
    main.write_text(
        f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/ocrp.conf;
}}
"""
    )
    return main


def test_the_example_config_is_valid_nginx(tmp_path: Path) -> None:
    assert NGINX is not None
    main = nginx_config(tmp_path, 8000, free_port())
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    """The API behind nginx, with no worker: tasks stay queued while streams are watched."""
    assert NGINX is not None
    # row checks rare: a stream that ends at once ended on a published event
    stack = build_stack("nginx", tmp_path / "stack", events_keepalive_s=1.0, events_row_check_s=120.0)
    _, api = stack.start_api_server()
    port = free_port()
    main = nginx_config(tmp_path, int(api.rsplit(":", 1)[1]), port)
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: port_open("127.0.0.1", port), 20, "nginx")
        yield stack, keyed(f"http://127.0.0.1:{port}", stack.api_key)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        stack.close()


def wait_status(base: str, task_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{base}/v1/tasks/{task_id}").json()["status"] == status:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{task_id} never became {status}")


def test_streams_and_client_aborts_pass_through_nginx(proxied: tuple[Stack, str]) -> None:
    _, base = proxied
    upload = httpx.post(f"{base}/v1/tasks/upload", files={"file": ("a.pdf", text_pdf(["queued"]))})
    assert upload.status_code == 202
    task_id = upload.json()["id"]

    # the first event arrives while the stream is still open, then keep-alives follow; a
    # cancel of the queued task ends the stream with its new state
    with httpx.stream(
        "GET", f"{base}/v1/tasks/{task_id}/events", timeout=httpx.Timeout(10, read=5)
    ) as events:
        assert events.status_code == 200
        lines = events.iter_lines()
        first_data = next(line for line in lines if line.startswith("data:"))
        assert '"status":"queued"' in first_data
        assert next(line for line in lines if line.startswith(":")) == ": keep-alive"
        assert httpx.post(f"{base}/v1/tasks/{task_id}/cancel").status_code == 200
        rest = [line for line in lines if line.startswith("data:")]
    assert len(rest) == 1
    assert '"status":"canceled"' in rest[0]

    # a streaming client that leaves: nginx closes the upstream, the API cancels the task
    with httpx.stream(
        "POST",
        f"{base}/v1/ocr",
        files={"file": ("b.pdf", text_pdf(["left"]))},
        data={"stream": "true"},
        timeout=30,
    ) as stream:
        first = next(iter(SseReader(stream)))
        streamed_task = first.json()["task_id"]
    wait_status(base, streamed_task, "canceled")

    # a waiting client that gives up: the same
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{base}/v1/ocr",
            files={"file": ("c.pdf", text_pdf(["gave up"]))},
            timeout=httpx.Timeout(10, read=2),
        )
    waited_task = httpx.get(f"{base}/v1/tasks?limit=1").json()["data"][0]["id"]
    assert waited_task not in (task_id, streamed_task)
    wait_status(base, waited_task, "canceled")
