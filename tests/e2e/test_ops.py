"""Metrics and heartbeats with real worker processes: the metrics move when a task runs, a
worker's heartbeat appears, ages, goes stale when the worker is killed and disappears when it
stops cleanly."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import worker_liveness
from shared.clock import utcnow
from shared.db.session import session_scope
from tests.fixtures.services import free_port, port_open, wait_for
from tests.fixtures.stack import Stack, build_stack

pytestmark = pytest.mark.slow


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_when_a_task_runs(production_stack: Stack, data_dir: Path) -> None:
    stack = production_stack
    submitted = stack.submit_file(data_dir / "olmo-page-1.pdf")
    # no worker yet: the message waits in Redis and the API's gauges say so
    api = scrape(stack.api.get("/metrics").text)
    assert sample(api, "ocrp_queue_depth", queue="ocr.interactive") == 1
    assert sample(api, "ocrp_tasks", status="queued") == 1
    assert sample(api, "ocrp_queue_tasks", queue="ocr.interactive", status="queued") == 1

    port = free_port()
    stack.start_worker(worker_metrics_port=port, worker_heartbeat_s=1)
    done = stack.wait_task(submitted["id"])
    assert done["status"] == "succeeded", done

    def worker_metrics() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return scrape(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)

    finished = {"queue": "ocr.interactive", "status": "succeeded"}
    # the terminal hook observes the task just after the commit the client already saw
    wait_for(
        lambda: sample(worker_metrics(), "ocrp_tasks_finished_total", **finished) == 1, 20, "task metrics"
    )
    worker = worker_metrics()
    page = {"engine": "tesseract", "status": "succeeded"}
    assert sample(worker, "ocrp_pages_processed_total", **page) == 1
    assert sample(worker, "ocrp_pages_processed_total", engine="tesseract", status="failed") == 0
    assert sample(worker, "ocrp_page_duration_seconds_count", **page) == 1
    assert sample(worker, "ocrp_page_duration_seconds_sum", **page) > 0
    assert sample(worker, "ocrp_page_stage_duration_seconds_count", engine="tesseract", stage="engine") == 1
    assert sample(worker, "ocrp_task_duration_seconds_count", **finished) == 1
    assert sample(worker, "ocrp_task_duration_seconds_sum", **finished) > 0
    # Tesseract counts no tokens: the series exists at zero
    assert ("ocrp_engine_output_tokens_total", (("engine", "tesseract"),)) in worker

    api = scrape(stack.api.get("/metrics").text)
    assert sample(api, "ocrp_queue_depth", queue="ocr.interactive") == 0
    assert sample(api, "ocrp_tasks", status="succeeded") == 1
    assert sample(api, "ocrp_tasks", status="queued") == 0
    wait_for(
        lambda: "ocrp_worker_info" in stack.api.get("/metrics").text.split("# TYPE ocrp_worker_info")[-1],
        20,
        "heartbeat",
    )
    api = scrape(stack.api.get("/metrics").text)
    assert sample(api, "ocrp_workers", state="alive", gpu="false") == 1
    info = [labels for (name, labels), _ in api.items() if name == "ocrp_worker_info"]
    assert len(info) == 1
    assert dict(info[0])["engine"] == "tesseract"
    assert sample(api, "ocrp_http_requests_total", method="POST", route="/v1/tasks/upload", status="202") >= 1

    # throughput on PostgreSQL (its own minute arithmetic)
    stats = stack.api.get("/v1/ops/stats").json()
    assert stats["throughput"]["pages_succeeded"] == 1
    assert sum(p["pages_succeeded"] for p in stats["throughput"]["per_minute"]) == 1
    assert stats["throughput"]["tasks_succeeded"] == 1


def _workers(stack: Stack) -> dict[str, dict[str, Any]]:
    return {w["node"]: w for w in stack.api.get("/v1/ops/stats").json()["workers"]}


def test_a_heartbeat_appears_ages_and_goes_stale_when_the_worker_is_killed(tmp_path: Path) -> None:
    stack = build_stack(
        "heartbeats",
        tmp_path,
        worker_heartbeat_s=1.0,
        worker_stale_after_s=4.0,
        ops_sample_interval_s=1.0,
        worker_metrics_port=0,
    )
    try:
        keeper = stack.start_worker("--beat", "--name", "keeper@%h")
        doomed = stack.start_worker("--name", "doomed@%h")
        host = __import__("socket").gethostname()
        wait_for(lambda: {f"keeper@{host}", f"doomed@{host}"} <= set(_workers(stack)), 30, "both heartbeats")

        seen = _workers(stack)[f"doomed@{host}"]
        assert seen["state"] == "alive"
        assert seen["engine"] == "tesseract"
        assert seen["model"].startswith("tesseract")
        assert "gundam" in seen["modes"]
        assert seen["gpu_present"] is False
        assert seen["gpus"] == []
        assert set(seen["queues"]) == {"ocr.interactive", "ocr.batch"}
        assert "maintenance" in _workers(stack)[f"keeper@{host}"]["queues"]
        assert seen["metrics_port"] is None
        assert seen["concurrency"] == stack.settings.worker_concurrency

        # the heartbeat is refreshed: last_seen moves on while the worker lives
        wait_for(
            lambda: _workers(stack)[f"doomed@{host}"]["last_seen"] > seen["last_seen"],
            10,
            "a newer heartbeat",
        )

        # models served by live workers, as GET /v1/models will read them
        with session_scope(stack.settings.database_url) as session:
            live = worker_liveness.live_workers(session, utcnow(), stack.settings.worker_stale_after_s)
        [model] = worker_liveness.served_models(live)
        assert (model.engine, model.workers, model.gpu) == ("tesseract", 2, False)

        doomed.kill()
        killed_at = time.monotonic()
        wait_for(
            lambda: _workers(stack)[f"doomed@{host}"]["state"] == "stale", 20, "the killed worker to go stale"
        )
        assert time.monotonic() - killed_at >= 2  # not before its heartbeat could be late
        stale = _workers(stack)[f"doomed@{host}"]
        assert stale["heartbeat_age_s"] >= 4
        wait_for(
            lambda: _workers(stack)[f"doomed@{host}"]["heartbeat_age_s"] > stale["heartbeat_age_s"] + 1,
            20,
            "the dead worker's heartbeat to age",
        )
        aged = _workers(stack)[f"doomed@{host}"]
        assert aged["last_seen"] == stale["last_seen"]  # nobody beats for a dead worker
        assert aged["heartbeat_age_s"] > stale["heartbeat_age_s"]
        metrics = scrape(stack.api.get("/metrics").text)
        assert sample(metrics, "ocrp_workers", state="stale", gpu="false") == 1
        assert sample(metrics, "ocrp_workers", state="alive", gpu="false") == 1

        # the beat task of the keeper records queue depths for the dashboard's history
        wait_for(lambda: stack.api.get("/v1/ops/stats").json()["queue_history"], 20, "queue samples")
        history = {h["queue"] for h in stack.api.get("/v1/ops/stats").json()["queue_history"]}
        assert {"ocr.interactive", "ocr.batch", "webhooks", "maintenance"} <= history

        keeper.stop()  # a clean shutdown removes the row instead of leaving a stale one
        assert f"keeper@{host}" not in _workers(stack)
    finally:
        stack.close()


def test_http_metrics_add_up_across_uvicorn_processes(embedded_stack: Stack) -> None:
    port = free_port()
    embedded_stack._spawn(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"], "api", embedded_stack.env
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: port_open("127.0.0.1", port), 60, "uvicorn")
    wait_for(lambda: httpx.get(f"{base}/healthz", timeout=5).status_code == 200, 60, "both processes")
    health = {"method": "GET", "route": "/healthz", "status": "200"}
    already = sample(
        scrape(httpx.get(f"{base}/metrics", timeout=10).text), "ocrp_http_requests_total", **health
    )
    for _ in range(20):
        httpx.get(f"{base}/healthz", timeout=5)
    # whichever process answers the scrape, it reports the requests of both
    for _ in range(4):
        metrics = scrape(httpx.get(f"{base}/metrics", timeout=10).text)
        assert sample(metrics, "ocrp_http_requests_total", **health) == already + 20
        assert sample(metrics, "ocrp_tasks", status="queued") == 0
