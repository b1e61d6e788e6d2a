"""Worker heartbeats in the database: written, refreshed, read, aged, removed and pruned, on
SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from shared import worker_liveness
from shared.clock import utcnow
from shared.db.session import session_scope
from shared.gpus import GpuState
from shared.worker_liveness import WorkerState

H100 = GpuState(0, "NVIDIA H100 80GB HBM3", 30 * 2**30, 80 * 2**30, 55)


def _worker(worker_id: str, **changes: object) -> WorkerState:
    now = utcnow()
    base = WorkerState(
        id=worker_id,
        node=f"deepseek@{worker_id}",
        host="gpu-1",
        pid=4242,
        engine="deepseek",
        model="deepseek-ai/DeepSeek-OCR",
        modes=("tiny", "gundam"),
        queues=("ocr.batch", "ocr.interactive"),
        concurrency=32,
        tasks_in_flight=3,
        started_at=now,
        seen_at=now,
        gpus=(H100,),
        metrics_port=9102,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_heartbeat_is_written_then_refreshed_in_place(database_url: str) -> None:
    first = _worker("wrk_a")
    with session_scope(database_url) as session:
        worker_liveness.publish(session, first)
    later = replace(first, tasks_in_flight=7, seen_at=first.seen_at + timedelta(seconds=10))
    with session_scope(database_url) as session:
        worker_liveness.publish(session, later)
    with session_scope(database_url) as session:
        workers = worker_liveness.list_workers(session)
    assert len(workers) == 1
    read = workers[0]
    assert read.tasks_in_flight == 7
    assert read.seen_at == later.seen_at
    assert read.gpus == (H100,)
    assert read.gpu_present
    assert read.modes == ("tiny", "gundam")
    assert read.queues == ("ocr.batch", "ocr.interactive")


def test_a_silent_worker_ages_into_stale(database_url: str) -> None:
    now = utcnow()
    with session_scope(database_url) as session:
        worker_liveness.publish(session, _worker("wrk_fresh", seen_at=now - timedelta(seconds=5)))
        worker_liveness.publish(session, _worker("wrk_silent", seen_at=now - timedelta(seconds=120)))
    with session_scope(database_url) as session:
        by_id = {w.id: w for w in worker_liveness.list_workers(session)}
        live = worker_liveness.live_workers(session, now, stale_after_s=45)
    assert by_id["wrk_fresh"].alive(now, 45)
    assert not by_id["wrk_silent"].alive(now, 45)
    assert 119 < by_id["wrk_silent"].age_s(now) < 121
    assert [w.id for w in live] == ["wrk_fresh"]


def test_remove_and_prune_delete_rows(database_url: str) -> None:
    now = utcnow()
    with session_scope(database_url) as session:
        worker_liveness.publish(session, _worker("wrk_gone"))
        worker_liveness.publish(session, _worker("wrk_old", seen_at=now - timedelta(hours=2)))
        worker_liveness.publish(session, _worker("wrk_recent", seen_at=now - timedelta(minutes=5)))
    with session_scope(database_url) as session:
        worker_liveness.remove(session, "wrk_gone")
        assert worker_liveness.prune(session, now, forget_after_s=3600) == 1
    with session_scope(database_url) as session:
        assert [w.id for w in worker_liveness.list_workers(session)] == ["wrk_recent"]


def test_served_models_group_live_workers_by_engine_and_model() -> None:
    cpu = _worker(
        "wrk_cpu", engine="tesseract", model="tesseract 5.5", modes=("base",), gpus=(), queues=("ocr.batch",)
    )
    gpu_a = _worker("wrk_g1", modes=("tiny",))
    gpu_b = _worker("wrk_g2", modes=("gundam", "base"), queues=("ocr.interactive",))
    webhooks_only = _worker("wrk_hooks", engine=None, model=None, modes=(), gpus=())
    models = worker_liveness.served_models([gpu_a, cpu, webhooks_only, gpu_b])
    assert [(m.engine, m.model, m.workers, m.gpu) for m in models] == [
        ("deepseek", "deepseek-ai/DeepSeek-OCR", 2, True),
        ("tesseract", "tesseract 5.5", 1, False),
    ]
    assert models[0].modes == ("base", "gundam", "tiny")
    assert models[0].queues == ("ocr.batch", "ocr.interactive")
    assert models[0].gpus == ("gpu-1:0",)  # both workers on the one GPU: listed once
    assert models[1].gpus == ()


def test_served_models_list_each_gpu_of_a_multi_gpu_host() -> None:
    engines = [
        _worker(f"wrk_{i}", node=f"deepseek-gpu{i}@gpu-1", gpus=(replace(H100, index=i),)) for i in (1, 0)
    ]
    [model] = worker_liveness.served_models(engines)
    assert model.workers == 2
    assert model.gpus == ("gpu-1:0", "gpu-1:1")
