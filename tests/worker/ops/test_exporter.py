"""The worker's Prometheus endpoint: served on its port, off at 0, and a taken port is not fatal."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from shared.config import Settings
from tests.fixtures.services import free_port
from worker.ops.exporter import start_metrics_server


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, worker_metrics_port=port, worker_metrics_host="127.0.0.1"
    )


def test_the_endpoint_serves_the_process_metrics(tmp_path: Path) -> None:
    import shared.metrics.pipeline  # noqa: F401

    port = free_port()
    assert start_metrics_server(_settings(tmp_path, port)) == port
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert "# TYPE ocrp_pages_processed_total counter" in body


def test_port_zero_turns_it_off(tmp_path: Path) -> None:
    assert start_metrics_server(_settings(tmp_path, 0)) is None


def test_a_taken_port_is_logged_and_the_worker_carries_on(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert start_metrics_server(_settings(tmp_path, port)) is None
