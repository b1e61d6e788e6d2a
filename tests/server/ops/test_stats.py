"""`GET /v1/ops/stats`, `/ops` and `/metrics` on the embedded stack, with rows written the way
the API and workers write them and real messages in the filesystem broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.ops.batches import eta_seconds
from shared import queue_samples, worker_liveness
from shared.clock import utcnow
from shared.db.models import Page, PageStatus, Task, TaskStatus
from shared.db.session import session_scope
from shared.gpus import GpuState
from shared.queue import enqueue_process
from shared.worker_liveness import WorkerState
from tests.fixtures.stack import Stack


def _task(**values: Any) -> Task:
    return Task(source_kind="upload", options={}, **values)


@pytest.fixture
def busy(embedded_stack: Stack) -> Iterator[Stack]:
    """A platform caught mid-afternoon: work waiting, running, done and failed; two workers."""
    now = utcnow()
    url = embedded_stack.settings.database_url
    with session_scope(url) as session:
        waiting = [_task(queue="ocr.batch", created_at=now - timedelta(seconds=100)) for _ in range(2)]
        running = _task(
            queue="ocr.interactive",
            status=TaskStatus.running,
            worker="tesseract@box:tesseract",
            pages_total=2,
            pages_done=1,
            started_at=now - timedelta(seconds=20),
            heartbeat_at=now - timedelta(seconds=2),
            filename="report.pdf",
        )
        done = _task(
            queue="ocr.interactive", status=TaskStatus.succeeded, finished_at=now - timedelta(minutes=9)
        )
        failed = _task(
            queue="ocr.batch",
            status=TaskStatus.failed,
            error_code="pdf_corrupt",
            error_message="the PDF is damaged <beyond repair>",
            finished_at=now - timedelta(minutes=5),
        )
        old_failure = _task(
            queue="ocr.batch",
            status=TaskStatus.failed,
            error_code="fetch_failed",
            error_message="404",
            finished_at=now - timedelta(hours=2),
        )
        session.add_all([*waiting, running, done, failed, old_failure])
        session.flush()
        session.add_all(
            [
                Page(
                    task_id=done.id,
                    number=1,
                    status=PageStatus.succeeded,
                    finished_at=now - timedelta(minutes=10),
                ),
                Page(
                    task_id=done.id,
                    number=2,
                    status=PageStatus.succeeded,
                    finished_at=now - timedelta(minutes=10),
                ),
                Page(
                    task_id=done.id,
                    number=3,
                    status=PageStatus.failed,
                    finished_at=now - timedelta(minutes=9),
                ),
                Page(
                    task_id=running.id,
                    number=1,
                    status=PageStatus.succeeded,
                    finished_at=now - timedelta(seconds=10),
                ),
                Page(task_id=running.id, number=2, status=PageStatus.pending),
                Page(
                    task_id=old_failure.id,
                    number=1,
                    status=PageStatus.failed,
                    finished_at=now - timedelta(hours=2),
                ),
            ]
        )
        gpu = GpuState(0, "NVIDIA H100 80GB HBM3", 20 * 2**30, 80 * 2**30, 71)
        for worker_id, seen, gpus in [
            ("wrk_alive", now, (gpu,)),
            ("wrk_dead", now - timedelta(minutes=5), ()),
        ]:
            worker_liveness.publish(
                session,
                WorkerState(
                    id=worker_id,
                    node=f"n@{worker_id}",
                    host="box",
                    pid=1,
                    engine="deepseek",
                    model="deepseek-ai/DeepSeek-OCR",
                    modes=("gundam",),
                    queues=("ocr.interactive",),
                    concurrency=8,
                    tasks_in_flight=1,
                    started_at=now - timedelta(hours=1),
                    seen_at=seen,
                    gpus=gpus,
                ),
            )
        queue_samples.record(
            session, now - timedelta(minutes=2), [queue_samples.QueueLoad("ocr.batch", 3, 3, 0)]
        )
        waiting_ids = [t.id for t in waiting]
    for task_id in waiting_ids:  # real wake-up calls in the embedded broker; no worker runs
        enqueue_process(embedded_stack.api.app.state.celery, task_id, "ocr.batch")
    return embedded_stack


def test_stats_report_queues_tasks_throughput_failures_and_workers(busy: Stack) -> None:
    response = busy.api.get("/v1/ops/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    queues = {q["name"]: q for q in stats["queues"]}
    assert queues["ocr.batch"]["depth"] == 2
    assert queues["ocr.batch"]["queued_tasks"] == 2
    assert 95 <= queues["ocr.batch"]["oldest_queued_age_s"] < 200
    assert queues["ocr.interactive"]["running_tasks"] == 1
    assert queues["webhooks"]["depth"] == 0
    assert stats["tasks"] == {"queued": 2, "running": 1, "succeeded": 1, "failed": 2, "canceled": 0}

    throughput = stats["throughput"]
    assert (throughput["pages_succeeded"], throughput["pages_failed"]) == (3, 1)
    assert throughput["pages_per_minute"] == 0.2  # one page in the last five minutes
    assert (throughput["tasks_succeeded"], throughput["tasks_failed"]) == (1, 1)
    assert len(throughput["per_minute"]) == 61
    assert sum(p["pages_succeeded"] for p in throughput["per_minute"]) == 3

    [in_flight] = stats["in_flight"]
    assert (in_flight["pages_done"], in_flight["pages_total"], in_flight["filename"]) == (1, 2, "report.pdf")
    assert [f["code"] for f in stats["recent_failures"]] == ["pdf_corrupt", "fetch_failed"]
    assert stats["failure_codes"] == [{"code": "pdf_corrupt", "tasks": 1}]

    workers = {w["id"]: w for w in stats["workers"]}
    assert workers["wrk_alive"]["state"] == "alive"
    assert workers["wrk_alive"]["gpus"][0]["memory_used_bytes"] == 20 * 2**30
    assert workers["wrk_dead"]["state"] == "stale"
    assert workers["wrk_dead"]["heartbeat_age_s"] >= 299
    assert stats["queue_history"] == [
        {
            "queue": "ocr.batch",
            "points": [
                {
                    "at": stats["queue_history"][0]["points"][0]["at"],
                    "depth": 3,
                    "queued_tasks": 3,
                    "running_tasks": 0,
                }
            ],
        }
    ]
    assert stats["batches"] == []


def shown_figures(html: str) -> dict[str, str]:
    return {
        unescape(path): unescape(text) for path, text in re.findall(r'data-stat="([^"]+)">([^<]*)<', html)
    }


def test_the_dashboard_shows_the_figures_of_the_stats(busy: Stack) -> None:
    page = busy.api.get("/ops")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    stats = busy.api.get("/v1/ops/stats").json()
    shown = shown_figures(page.text)
    assert shown["tasks.queued"] == str(stats["tasks"]["queued"]) == "2"
    assert shown["tasks.running"] == "1"
    assert shown["queues.ocr.batch.depth"] == "2"
    assert shown["throughput.pages_succeeded"] == "3"
    assert shown["throughput.pages_failed"] == "1"
    assert shown["workers.alive"] == "1"
    assert shown["workers.stale"] == "1"
    assert shown["workers.wrk_alive.gpus.0.memory_used_bytes"] == "20.0 GiB"
    assert shown["failure_codes.pdf_corrupt"] == "1"
    assert "the PDF is damaged &lt;beyond repair&gt;" in page.text  # escaped, never raw HTML
    assert "No batch in progress." in page.text
    # nothing is loaded from elsewhere: no external script, style, image or font
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    fragment = busy.api.get("/ops/fragment")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert shown_figures(fragment.text)["tasks.queued"] == "2"


@pytest.mark.parametrize("path", ["/v1/ops/stats", "/ops", "/ops/fragment"])
def test_callers_without_the_admin_scope_are_refused(embedded_stack: Stack, path: str) -> None:
    alice = embedded_stack.client(embedded_stack.new_key("alice", "submit,read"))
    response = alice.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "admin" in response.json()["error"]["message"]


def test_the_stats_are_documented_in_openapi(embedded_stack: Stack) -> None:
    schema = embedded_stack.api.get("/openapi.json").json()
    operation = schema["paths"]["/v1/ops/stats"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OpsStats"
    )
    assert "403" in operation["responses"]
    assert "WorkerStats" in schema["components"]["schemas"]
    assert "/metrics" not in schema["paths"]


def families(text: str) -> dict[str, list[Any]]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_metrics_expose_the_cluster_gauges_and_http_requests(busy: Stack) -> None:
    busy.api.get("/v1/tasks/tsk_does_not_exist")
    busy.api.get("/no/such/route")
    response = busy.api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    metrics = families(response.text)

    def gauge(name: str, **labels: str) -> float:
        return next(s.value for s in metrics[name] if all(s.labels.get(k) == v for k, v in labels.items()))

    assert gauge("ocrp_queue_depth", queue="ocr.batch") == 2
    assert gauge("ocrp_queue_tasks", queue="ocr.interactive", status="running") == 1
    assert gauge("ocrp_tasks", status="failed") == 2
    assert gauge("ocrp_workers", state="alive", gpu="true") == 1
    assert gauge("ocrp_workers", state="stale", gpu="false") == 1
    assert gauge("ocrp_worker_gpu_memory_total_bytes", worker="wrk_alive") == 80 * 2**30
    assert gauge("ocrp_worker_gpu_utilization_ratio", worker="wrk_alive") == pytest.approx(0.71)
    assert gauge("ocrp_ops_source_up", source="database") == 1
    assert gauge("ocrp_ops_source_up", source="broker") == 1
    requests = metrics["ocrp_http_requests"]
    assert any(
        s.labels == {"method": "GET", "route": "/v1/tasks/{task_id}", "status": "404"} for s in requests
    )
    assert any(s.labels["route"] == "<unmatched>" for s in requests)
    assert not any("tsk_does_not_exist" in str(s.labels) for s in requests)


def test_metrics_answer_when_the_database_is_down(embedded_stack: Stack, tmp_path: Any) -> None:
    from server.app import create_app
    from shared.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "down",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    from fastapi.testclient import TestClient

    # any well-formed key: looking it up needs the database, which is what is down
    key = {"Authorization": "Bearer ocrp_abcdefghjkmn_anykeyanykeyanykeyanykeyanykeyanykeyanykeya"}
    with TestClient(create_app(settings), raise_server_exceptions=False, headers=key) as client:
        response = client.get("/metrics")
        assert response.status_code == 200
        up = {s.labels["source"]: s.value for s in families(response.text)["ocrp_ops_source_up"]}
        assert up == {"database": 0}
        assert "ocrp_http_requests" in families(response.text)
        stats = client.get("/v1/ops/stats")
        assert stats.status_code == 503
        assert stats.json()["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize(
    ("total", "done", "rate", "expected"),
    [
        (100, 40, 30.0, 120.0),
        (10, 10, 0.0, 0.0),
        (10, 12, None, 0.0),
        (10, 2, None, None),
        (10, 2, 0.0, None),
    ],
)
def test_batch_eta(total: int, done: int, rate: float | None, expected: float | None) -> None:
    assert eta_seconds(total, done, rate) == expected
