"""The GPU worker end to end: a real `ocrp worker --engine deepseek` process on the embedded
default (SQLite, filesystem broker, local storage) fed with real PDF tasks.

queue -> claim -> render + prepare (render processes) -> engine -> grounding parse -> layout,
crops, checkpoints -> results, all as in production. Pages decode exactly --max-tokens
(OCR_DEEPSEEK_BENCH_IGNORE_EOS) with the n-gram rule on and the retry off. Throughput is
pages over the time from the first enqueue to the last task's finish; the worker's log is
kept beside the results.

usage (GPU machine): python -m bench.gpu.pipeline --model /tmp/ocr-model --mode gundam \\
    --docs 64 --pages-per-doc 16 --out bench/results/raw.jsonl --log $OUT/worker.log
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
import time
from pathlib import Path
from typing import Any

from bench.gpu.common import A4_DPI, GpuSampler, cpu_delta, cpu_seconds, make_pdf, record


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
                options=TaskOptions(mode=mode).model_dump(mode="json", exclude_none=True),
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


def wait_ready(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode}); see {log}")
        text = log.read_text(errors="replace") if log.exists() else ""
        if " ready." in text or ("celery@" in text and "ready" in text):
            return
        time.sleep(1)
    raise SystemExit(f"the worker was not ready within {timeout:.0f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--mode", default="gundam")
    ap.add_argument("--engine", default="deepseek", help="tesseract: a dry run of the harness on a CPU")
    ap.add_argument("--docs", type=int, default=64)
    ap.add_argument("--pages-per-doc", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--pages-in-flight", type=int, default=16)
    ap.add_argument("--set", nargs=2, action="append", metavar=("VAR", "VALUE"), help="extra worker env")
    ap.add_argument("--timeout", type=float, default=400)
    ap.add_argument("--label", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    # an outer `timeout` sends SIGTERM: end through `finally`, which stops the worker (it runs in
    # its own session and would otherwise keep the GPU)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))

    data = Path(f"/tmp/ocrp-pipeline-{args.mode}")
    shutil.rmtree(data, ignore_errors=True)
    (data / "docs").mkdir(parents=True)
    docs = [make_pdf(data / "docs" / f"doc-{i}.pdf", args.pages_per_doc, 100 + i) for i in range(args.docs)]
    env = worker_env(args, data)
    log = Path(args.log)
    sampler = GpuSampler()
    sampler.start()
    started = time.time()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ocrp.main",
                "worker",
                "--engine",
                args.engine,
                "-c",
                str(args.concurrency),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(log, proc, 150)
        ready_s = time.time() - started
        print(f"worker ready in {ready_s:.0f}s", flush=True)
        cpu0 = cpu_seconds(proc.pid)
        t1 = time.time()
        ids = create_tasks(data, docs, args.mode)
        done: list[Any] = []
        while time.time() - t1 < args.timeout:
            states = task_states(data, ids)
            done = [s for s in states if s[0] in ("succeeded", "failed", "canceled")]
            if len(done) == len(ids):
                break
            time.sleep(1)
        t2 = time.time()
        cpu1 = cpu_seconds(proc.pid)
        states = task_states(data, ids)
        finished = [s for s in states if s[2] is not None]
        pages = sum(s[3] for s in states)
        last_finish = max(s[2].timestamp() for s in finished) if finished else t2
        wall = last_finish - t1
        cpu = cpu_delta(cpu0, cpu1)
        by_kind: dict[str, float] = {}
        for name, seconds in cpu.items():
            kind = (
                "worker"
                if name == "self"
                else ("engine_core" if "Engine" in name or "VLLM" in name else name)
            )
            by_kind[kind] = round(by_kind.get(kind, 0.0) + seconds, 1)
        record(
            Path(args.out),
            {
                "bench": "pipeline",
                "engine": args.engine,
                "label": args.label,
                "gpu": sampler.gpu,
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
                **sampler.window(t1, last_finish),
                "cpu_s": by_kind,
                "worker_ready_s": round(ready_s, 1),
                "concurrency": args.concurrency,
                "pages_in_flight": args.pages_in_flight,
                "env": {k: v for k, v in env.items() if k.startswith("OCR_DEEPSEEK")},
            },
        )
    finally:
        sampler.stopped.set()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
