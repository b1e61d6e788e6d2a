"""The platform's overhead per document on a backfill: time beyond the engine's.

A backfill of N one-page PDFs runs through the real API, expander and worker processes. Each
page records the engine's time (`Page.engine_ms`); everything else a document costs is the
platform: expansion, queueing, fetching and storing the input, opening and rendering the PDF,
checkpoints, assembling results and the database writes in between. Reported:

- `overhead_per_doc_ms`: (wall time * OCR slots - total engine time) / documents. The cost of a
  document to the cluster beyond OCR itself, idle slots included.
- `task_overhead_ms` (median, p95): inside one task, its run time minus its engine time.
- `render_ms_per_page`: the part of that overhead spent rasterising the page.

    python -m bench.backfill_overhead                       # embedded default, 1000 documents
    python -m bench.backfill_overhead --stack production \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432 --redis redis://127.0.0.1:6379

Results go to bench/results/backfill-overhead-<machine>.json and .md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pymupdf
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def tiny_pdf(text: str) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=320, height=80)
    page.insert_text((16, 46), text, fontsize=18)
    data: bytes = doc.tobytes()
    doc.close()
    return data


def machine() -> dict[str, Any]:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def settings_env(values: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env.update({f"OCR_{k.upper()}": str(v) for k, v in values.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocrp.main", "worker", *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while " ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def production_values(args: argparse.Namespace, base: Path) -> tuple[dict[str, Any], Any]:
    """PostgreSQL (a fresh database), Redis (a free database) and a private `weed mini` S3
    server."""
    import psycopg

    from bench.weed import start_weed

    name = f"ocrp_bench_{int(time.time())}"
    admin = args.postgres.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    broker = _lock_redis_db(args.redis)
    weed = start_weed(base / "s3")
    values = {
        "database_url": f"{args.postgres}/{name}",
        "broker_url": broker,
        "storage_backend": "s3",
        "s3_endpoint_url": weed.endpoint,
        "s3_bucket": "ocrp-bench",
        "s3_create_bucket": "true",
        "s3_access_key_id": weed.access_key,
        "s3_secret_access_key": weed.secret_key,
    }
    return values, weed


def _lock_redis_db(server: str) -> str:
    """A Redis database nobody else holds, taken with the test fixtures' lock key (several
    sessions share one Redis); emptied of everything but the lock."""
    import redis

    for db in range(1, 16):
        client = redis.Redis.from_url(f"{server.rstrip('/')}/{db}")
        if client.set("ocrp-test-session", f"bench-{os.getpid()}", nx=True, ex=3600):
            for key in client.scan_iter(count=1000):
                if key != b"ocrp-test-session":
                    client.delete(key)
            return f"{server.rstrip('/')}/{db}"
    raise RuntimeError("every Redis database 1-15 is held by another session")


def submit(api: Any, values: dict[str, Any], documents: list[tuple[str, bytes]], dpi: int) -> str:
    if values.get("storage_backend") == "s3":
        from shared.config import Settings
        from shared.storage.s3 import make_s3_client

        client = make_s3_client(Settings(_env_file=None, **values))  # type: ignore[call-arg]
        client.create_bucket(Bucket="bench-source")
        for name, data in documents:
            client.put_object(Bucket="bench-source", Key=f"archive/{name}", Body=data)
        response = api.post("/v1/batches", json={"s3_prefix": "s3://bench-source/archive/", "dpi": dpi})
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in documents:
                archive.writestr(name, data)
        response = api.post(
            "/v1/batches/upload", files={"file": ("bench.zip", buffer.getvalue())}, data={"dpi": str(dpi)}
        )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def measure(database_url: str, batch_id: str, slots: int) -> dict[str, Any]:
    from shared.db.models import Batch, Page, Task
    from shared.db.session import session_scope

    with session_scope(database_url) as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        assert batch.finished_at is not None
        assert batch.started_at is not None
        rows = session.execute(
            select(
                Task.started_at,
                Task.finished_at,
                func.sum(Page.engine_ms),
                func.sum(Page.render_ms),
                func.count(),
            )
            .join(Page, Page.task_id == Task.id)
            .where(Task.batch_id == batch_id, Task.status == "succeeded")
            .group_by(Task.id)
        ).all()
        wall = (batch.finished_at - batch.created_at).total_seconds()
        succeeded = batch.settled_succeeded
    engine_s = sum(r[2] for r in rows) / 1000
    pages = sum(r[4] for r in rows)
    task_overhead = sorted(((r[1] - r[0]).total_seconds() * 1000 - r[2]) for r in rows)
    return {
        "documents": succeeded,
        "pages": pages,
        "wall_s": round(wall, 1),
        "documents_per_s": round(succeeded / wall, 2),
        "ocr_slots": slots,
        "engine_ms_per_page": round(engine_s * 1000 / pages, 1),
        "render_ms_per_page": round(sum(r[3] for r in rows) / pages, 1),
        "overhead_per_doc_ms": round((wall * slots - engine_s) * 1000 / succeeded, 1),
        "task_overhead_ms": {
            "median": round(statistics.median(task_overhead), 1),
            "p95": round(task_overhead[int(len(task_overhead) * 0.95)], 1),
        },
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from server.app import create_app
    from shared.config import Settings
    from shared.db.migrate import upgrade
    from tests.fixtures.stack import create_api_key

    base = Path(tempfile.mkdtemp(prefix="ocrp-bench-"))
    values: dict[str, Any] = {
        "data_dir": base / "data",
        "log_level": "INFO",
        "worker_concurrency": args.slots,
    }
    weed = None
    if args.stack == "production":
        extra, weed = production_values(args, base)
        values.update(extra)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.database_url)
    env = settings_env(values)
    workers: list[subprocess.Popen[bytes]] = []
    documents = [(f"d/{i:05d}.pdf", tiny_pdf(f"Backfill document {i}")) for i in range(args.documents)]
    try:
        workers.append(start_worker(env, base / "ocr.log", "-Q", "ocr.interactive,ocr.batch"))
        workers.append(start_worker(env, base / "maintenance.log", "-Q", "maintenance", "--beat"))
        with TestClient(
            create_app(settings), headers={"Authorization": f"Bearer {create_api_key(settings)}"}
        ) as api:
            batch_id = submit(api, values, documents, args.dpi)
            while api.get(f"/v1/batches/{batch_id}").json()["status"] not in (
                "completed",
                "failed",
                "canceled",
            ):
                time.sleep(1)
        return measure(settings.database_url, batch_id, args.slots)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)
        if weed is not None:
            weed.stop()
            _release(values)
        shutil.rmtree(base, ignore_errors=True)


def _release(values: dict[str, Any]) -> None:
    """Give back the Redis database and drop the benchmark's PostgreSQL database."""
    import psycopg
    import redis

    from shared.db.session import get_engine

    redis.Redis.from_url(values["broker_url"]).flushdb()
    get_engine(values["database_url"]).dispose()
    server, name = values["database_url"].rsplit("/", 1)
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write(results: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"backfill-overhead-{name}.json"
    existing = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    existing["machine"] = results["machine"]
    existing["runs"][results["stack"]] = results
    path.write_text(json.dumps(existing, indent=2) + "\n")
    lines = [
        f"# Backfill overhead on {name}",
        "",
        f"Machine: {existing['machine']['cpus']} vCPU {existing['machine']['cpu_model']}, "
        f"{existing['machine']['memory_gib']} GiB, {existing['machine']['os']}; shared with other work.",
        "",
        "| stack | docs | wall s | docs/s | OCR slots | engine ms/page | render ms/page "
        "| overhead ms/doc | task overhead ms (median / p95) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for stack, run_ in existing["runs"].items():
        r = run_["result"]
        lines.append(
            f"| {stack} | {r['documents']} | {r['wall_s']} | {r['documents_per_s']} | {r['ocr_slots']} "
            f"| {r['engine_ms_per_page']} | {r['render_ms_per_page']} | {r['overhead_per_doc_ms']} "
            f"| {r['task_overhead_ms']['median']} / {r['task_overhead_ms']['p95']} |"
        )
    lines += ["", "Produced by `python -m bench.backfill_overhead` (see its docstring for the definitions)."]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=2, help="OCR worker concurrency")
    parser.add_argument("--dpi", type=int, default=144)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379", help="Redis server (a free database is taken)"
    )
    parser.add_argument("--machine", default=f"{os.cpu_count()}vcpu")
    args = parser.parse_args()
    info = machine()
    started = time.time()
    result = run(args)
    results = {
        "stack": args.stack,
        "machine": info,
        "settings": {"documents": args.documents, "slots": args.slots, "dpi": args.dpi},
        "result": result,
        "bench_s": round(time.time() - started, 1),
    }
    print(json.dumps(results, indent=2))
    write(results, args.machine)


if __name__ == "__main__":
    main()
