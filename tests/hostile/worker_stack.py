"""A module-scoped embedded stack with one worker that runs everything (tasks, batch expansion,
beat), and a loopback file server for URL sources: shared by the hostile-input modules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stack import Stack, build_stack

EXPANDER = {"batch_expand_interval_s": 0.3, "batch_stalled_after_s": 4}
FINISHED = {"completed", "failed", "canceled"}


@pytest.fixture(scope="module")
def worker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = build_stack("hostile", tmp_path_factory.mktemp("hostile"))
    stack.start_worker("--beat", worker_concurrency=1, **EXPANDER)
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback (allowlisted in the test stack): (folder, base URL)."""
    root = tmp_path_factory.mktemp("www")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_batch(stack: Stack, batch_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    batch: dict[str, Any] = {}
    while time.monotonic() < deadline:
        batch = stack.api.get(f"/v1/batches/{batch_id}").json()
        if batch["status"] in FINISHED:
            return batch
        time.sleep(0.3)
    logs = "\n".join(p.log()[-3000:] for p in stack.processes)
    raise TimeoutError(f"batch {batch_id} stuck: {batch}\n--- logs ---\n{logs}")


def manifest(stack: Stack, batch_id: str) -> dict[str, dict[str, Any]]:
    response = stack.api.get(f"/v1/batches/{batch_id}/manifest.jsonl")
    assert response.status_code == 200, response.text
    return {line["source"]: line for line in map(json.loads, response.text.splitlines())}
