"""The GPU worker end to end: a real `ocrp worker --engine deepseek` process on the embedded
default (SQLite, filesystem broker, local storage) fed with real PDF tasks.

queue -> claim -> render + prepare (render processes) -> engine -> grounding parse -> layout,
crops, checkpoints -> results, all as in production. Pages decode exactly --max-tokens
(OCR_DEEPSEEK_BENCH_IGNORE_EOS) with the n-gram rule on and the retry off. Throughput is
pages over the time from the first enqueue to the last task's finish; the worker's log is
kept beside the results.

Each row names the machine (BENCH_MACHINE, lscpu's CPU model, nvidia-smi's GPU) and splits the
CPU time by process kind: the worker itself (which also runs vLLM's frontend), the render
processes and vLLM's engine core, each per page. `--workers N` starts N workers on the one GPU
(one engine each: give them a share of its memory with `--set
OCR_DEEPSEEK_GPU_MEMORY_UTILIZATION 0.45`). `--engine standin` runs the same path on a CPU
(`bench/worker_path.py`). The exact GPU calls: `bench/gpu/DEVICE_PLAN.md`.

usage (GPU machine): python -m bench.gpu.pipeline --model /tmp/ocr-model --mode gundam \\
    --docs 64 --pages-per-doc 16 --out $OUT/results.jsonl --log $OUT/worker.log
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.gpu.common import A4_DPI, GpuSampler, make_pdf, record


def worker_env(args: argparse.Namespace, data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "OCR_DATA_DIR": str(data),
            "OCR_ENGINE": args.engine,
            "OCR_DEEPSEEK_MODEL_PATH": args.model,
            "OCR_DEEPSEEK_LOAD_FORMAT": "dummy",
            "OCR_DEEPSEEK_MODE": args.mode,
            "OCR_DEEPSEEK_MAX_TOKENS": str(args.max_tokens),
            "OCR_DEEPSEEK_BENCH_IGNORE_EOS": "true",
            "OCR_DEEPSEEK_RETRY_NGRAM_SIZE": "0",
            "OCR_PAGES_IN_FLIGHT": str(args.pages_in_flight),
            "OCR_DEFAULT_DPI": str(A4_DPI),
            "OCR_DEFAULT_STRATEGY": "ocr",
            "OCR_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name, value in args.set or []:
        env[name] = value
    return env


def create_tasks(data: Path, docs: list[Path], mode: str) -> list[str]:
    os.environ["OCR_DATA_DIR"] = str(data)
    from shared.clock import utcnow
    from shared.config import get_settings
    from shared.db.migrate import upgrade
    from shared.db.models import SourceKind, Task, TaskStatus
    from shared.db.session import session_scope
    from shared.ids import new_id
    from shared.options import TaskOptions
    from shared.queue import QUEUE_BATCH, enqueue_process, make_celery
    from shared.storage import make_storage
    from shared.storage.keys import input_key

    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.database_url)
    storage = make_storage(settings)
    app = make_celery(settings)
    ids = []
    with session_scope(settings.database_url) as session:
        for path in docs:
            task = Task(
                id=new_id("tsk"),
                owner="bench",
                status=TaskStatus.queued,
                queue=QUEUE_BATCH,
                source_kind=SourceKind.upload,
                filename=path.name,
                content_type="application/pdf",
                size_bytes=path.stat().st_size,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                # the bench PDFs carry a text layer: `auto` would read it and leave the engine idle
                options=TaskOptions(mode=mode, strategy="ocr").model_dump(mode="json", exclude_none=True),
                created_at=utcnow(),
                enqueued_at=utcnow(),
            )
            task.input_key = input_key(task.id, "pdf")
            with path.open("rb") as handle:
                storage.put_file(task.input_key, handle, "application/pdf")
            session.add(task)
            ids.append(task.id)
    for task_id in ids:
        enqueue_process(app, task_id, QUEUE_BATCH)
    return ids


def task_states(data: Path, ids: list[str]) -> list[Any]:
    from sqlalchemy import select

    from shared.config import get_settings
    from shared.db.models import Task
    from shared.db.session import session_scope

    with session_scope(get_settings().database_url) as session:
        rows = session.execute(
            select(
                Task.status, Task.started_at, Task.finished_at, Task.pages_done, Task.pages_truncated
            ).where(Task.id.in_(ids))
        ).all()
        return [tuple(r) for r in rows]


def wait_ready(log: Path, proc: subprocess.Popen[bytes], timeout: float, count: int = 1) -> None:
    """Until `count` engines of this worker said they are ready (with OCR_DEEPSEEK_ENGINES_PER_GPU
    the worker supervises several, each logging its own line)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode}); see {log}")
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.count(" ready.") >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"the worker was not ready within {timeout:.0f}s; see {log}")


def process_kind(proc: psutil.Process, root: int) -> str:
    """worker (the `ocrp worker` process itself), engine_core (vLLM's processes, which set
    their title), render (spawned render/prepare children) or other (resource tracker...)."""
    if proc.pid == root:
        return "worker"
    name = proc.name()
    if "VLLM" in name or "Engine" in name:
        return "engine_core"
    cmdline = " ".join(proc.cmdline())
    if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
        return "render"
    return "other"


def cpu_by_kind(root: int) -> dict[str, float]:
    """CPU seconds (user + system) of the worker and its descendants, summed by kind."""
    totals: dict[str, float] = {}
    try:
        procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return totals
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = proc.cpu_times()
            kind = process_kind(proc, root)
            totals[kind] = totals.get(kind, 0.0) + times.user + times.system
    return totals


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="", help="model directory (deepseek engine)")
    ap.add_argument("--mode", default="gundam")
    ap.add_argument(
        "--engine",
        default="deepseek",
        choices=("deepseek", "standin", "tesseract"),
        help="standin: the GPU path with an engine that answers at once (bench/worker_path.py)",
    )
    ap.add_argument("--docs", type=int, default=64)
    ap.add_argument("--pages-per-doc", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64, help="tasks at once, per worker")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, one engine each (set their gpu-util with --set)",
    )
    ap.add_argument("--pages-in-flight", type=int, default=16)
    ap.add_argument("--set", nargs=2, action="append", metavar=("VAR", "VALUE"), help="extra worker env")
    ap.add_argument("--ready-timeout", type=float, default=420, help="seconds the worker may take to start")
    ap.add_argument("--ready-count", type=int, default=1, help="engines each worker must report ready")
    ap.add_argument("--timeout", type=float, default=400, help="seconds the pages may take once enqueued")
    ap.add_argument("--label", default="")
    ap.add_argument("--bench", default="pipeline", help="the row's `bench` field")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    return ap.parse_args(argv)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start the worker, time the documents through it, stop it; returns the recorded row."""
    # a folder of its own: two benchmarks on one machine (the test suite's guard beside a manual
    # run) must not share a database or a broker
    data = Path(tempfile.mkdtemp(prefix=f"ocrp-pipeline-{args.engine}-{args.mode}-"))
    (data / "docs").mkdir(parents=True)
    docs = [make_pdf(data / "docs" / f"doc-{i}.pdf", args.pages_per_doc, 100 + i) for i in range(args.docs)]
    env = worker_env(args, data)
    sampler = GpuSampler()
    sampler.start()
    started = time.time()
    procs, logs = [], []
    for index in range(args.workers):
        log = Path(args.log) if index == 0 else Path(f"{args.log}.{index}")
        log.parent.mkdir(parents=True, exist_ok=True)
        # a worker of its own per engine: its own node name and torch.compile cache (two engines
        # compiling into one cache folder at once would race)
        worker_env_i = dict(env)
        command = [sys.executable, "-m", "ocrp.main", "worker", "-c", str(args.concurrency)]
        if args.workers > 1:
            command += ["--name", f"bench{index}@%h"]
            if index > 0:
                root = os.environ.get("VLLM_CACHE_ROOT", os.path.expanduser("~/.cache/vllm"))
                worker_env_i["VLLM_CACHE_ROOT"] = f"{root}-{index}"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    command, env=worker_env_i, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        logs.append(log)
    try:
        for log, proc in zip(logs, procs, strict=True):
            wait_ready(log, proc, args.ready_timeout - (time.time() - started), args.ready_count)
        ready_s = time.time() - started
        print(f"worker ready in {ready_s:.1f}s", flush=True)
        cpu0 = cpu_of(procs)
        t1 = time.time()
        ids = create_tasks(data, docs, args.mode)
        while time.time() - t1 < args.timeout:
            states = task_states(data, ids)
            if sum(1 for s in states if s[0] in ("succeeded", "failed", "canceled")) == len(ids):
                break
            time.sleep(0.25)
        t2 = time.time()
        cpu1 = cpu_of(procs)
        states = task_states(data, ids)
        finished = [s for s in states if s[2] is not None]
        pages = sum(s[3] for s in states)
        last_finish = max(s[2].timestamp() for s in finished) if finished else t2
        wall = last_finish - t1
        cpu = {k: round(v - cpu0.get(k, 0.0), 2) for k, v in cpu1.items()}

        def per_page(kind: str) -> float | None:
            return round(1000 * cpu[kind] / pages, 1) if pages and kind in cpu else None

        window = sampler.window(t1, last_finish)
        row = {
            "bench": args.bench,
            "engine": args.engine,
            "label": args.label,
            "mode": args.mode,
            "docs": args.docs,
            "pages_per_doc": args.pages_per_doc,
            "pages_done": pages,
            "tasks_succeeded": sum(1 for s in states if s[0] == "succeeded"),
            "tasks": len(ids),
            "pages_truncated": sum(s[4] for s in states),
            "max_tokens": args.max_tokens,
            "seconds": round(wall, 2),
            "pages_per_s": round(pages / wall, 3) if wall > 0 else None,
            "output_tokens_per_s": round(pages * args.max_tokens / wall, 1) if wall > 0 else None,
            "gpu_busy": window["gpu_busy_pct"],
            **window,
            "worker_cpu_ms_per_page": per_page("worker"),
            "render_cpu_ms_per_page": per_page("render"),
            "engine_core_cpu_ms_per_page": per_page("engine_core"),
            "cpu_s": cpu,
            "worker_ready_s": round(ready_s, 1),
            "engines": args.workers * engine_processes(env),
            "workers": args.workers,
            "concurrency": args.concurrency,
            "pages_in_flight": args.pages_in_flight,
            "env": {
                k: v for k, v in env.items() if k.startswith(("OCR_DEEPSEEK", "OCR_EVENTS", "OCR_RENDER"))
            },
        }
        record(Path(args.out), row)
        return row
    finally:
        sampler.stopped.set()
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


def cpu_of(procs: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for proc in procs:
        for kind, seconds in cpu_by_kind(proc.pid).items():
            totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def engine_processes(env: dict[str, str]) -> int:
    """Engines the worker runs: one, or OCR_DEEPSEEK_ENGINES_PER_GPU where a supervisor reads it."""
    try:
        return max(1, int(env.get("OCR_DEEPSEEK_ENGINES_PER_GPU", "1")))
    except ValueError:
        return 1


def main() -> None:
    args = parse_args()
    # an outer `timeout` sends SIGTERM: end through `finally`, which stops the worker (it runs in
    # its own session and would otherwise keep the GPU)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    run_bench(args)


if __name__ == "__main__":
    main()
