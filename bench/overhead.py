"""Platform overhead per task: the time a one-page task spends beyond the OCR engine.

A real API (uvicorn) and a real worker process run on a stack; tasks are submitted over HTTP one
at a time and polled to completion. For each task:

    engine   = the page's engine time (Page.engine_ms)
    server   = finished_at - created_at (the task row's own clock)
    client   = submit → the client sees `succeeded` (HTTP, polling every 20 ms)
    overhead = server - engine  (upload staging, queueing, claim, rendering, crops, checkpoint,
               results assembly, database and storage writes)

    python -m bench.overhead [--tasks 30] [--stack embedded|production|both]

`production` needs PostgreSQL and Redis on 127.0.0.1 and starts SeaweedFS (`weed mini`) itself.
Writes bench/results/overhead-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.machine import describe, slug

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "tests" / "data" / "olmo-page-1.pdf"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ocrp.main", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def _wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("API not ready")


def _production_env(stack: ExitStack, base: Path) -> dict[str, str]:
    import psycopg

    from tests.fixtures.services import start_weed, stop_weed

    name = f"ocrp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    s3 = start_weed(base / "s3")
    stack.callback(stop_weed, s3)
    s3.client().create_bucket(Bucket="bench")
    return {
        "OCR_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "OCR_BROKER_URL": "redis://127.0.0.1:6379/14",
        "OCR_STORAGE_BACKEND": "s3",
        "OCR_S3_ENDPOINT_URL": s3.endpoint,
        "OCR_S3_BUCKET": "bench",
        "OCR_S3_ACCESS_KEY_ID": s3.access_key,
        "OCR_S3_SECRET_ACCESS_KEY": s3.secret_key,
    }


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def run_stack(kind: str, tasks: int) -> dict[str, Any]:
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ocrp-bench-") as tmp:
        base = Path(tmp)
        (base / "s3").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
        env.update(
            {"OCR_DATA_DIR": str(base / "var"), "OCR_LOG_LEVEL": "WARNING", "OCR_WORKER_CONCURRENCY": "1"}
        )
        # the benchmark polls every 20 ms, faster than the default per-key rate limit allows
        env["OCR_RATE_LIMIT_PER_S"] = "0"
        if kind == "production":
            env.update(_production_env(stack, base))
        subprocess.run(
            [sys.executable, "-m", "ocrp.main", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        key = subprocess.run(
            [sys.executable, "-m", "ocrp.main", "keys", "create", "--owner", "bench"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        for args, log in ((["worker"], "worker.log"), (["serve", "--port", str(port)], "api.log")):
            proc = _spawn(args, env, base / log)
            stack.callback(proc.wait, 30)
            stack.callback(proc.terminate)
        _wait_ready(url)
        rows = []
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
            for index in range(tasks + 2):  # the first two warm up the worker
                started = time.perf_counter()
                with DOCUMENT.open("rb") as handle:
                    task = client.post("/v1/tasks/upload", files={"file": (DOCUMENT.name, handle)}).json()
                while task["status"] not in ("succeeded", "failed", "canceled"):
                    time.sleep(0.02)
                    task = client.get(f"/v1/tasks/{task['id']}").json()
                client_s = time.perf_counter() - started
                assert task["status"] == "succeeded", task
                page = client.get(f"/v1/tasks/{task['id']}/pages").json()["data"][0]
                if index >= 2:
                    server_s = _seconds(task["timings"]["created_at"], task["timings"]["finished_at"])
                    engine_s = page["engine_ms"] / 1000
                    rows.append(
                        {
                            "client_s": client_s,
                            "server_s": server_s,
                            "engine_s": engine_s,
                            "render_s": page["render_ms"] / 1000,
                            "queued_s": task["timings"]["queued_s"],
                        }
                    )

    def stat(key: str, fn: Any = statistics.median) -> float:
        return round(fn([r[key] for r in rows]), 3)

    overhead = [r["server_s"] - r["engine_s"] for r in rows]
    client_overhead = [r["client_s"] - r["engine_s"] for r in rows]
    return {
        "stack": kind,
        "tasks": len(rows),
        "document": DOCUMENT.name,
        "engine_s_median": stat("engine_s"),
        "render_s_median": stat("render_s"),
        "queued_s_median": stat("queued_s"),
        "server_s_median": stat("server_s"),
        "overhead_s_median": round(statistics.median(overhead), 3),
        "overhead_s_p95": round(sorted(overhead)[int(0.95 * (len(overhead) - 1))], 3),
        "client_overhead_s_median": round(statistics.median(client_overhead), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--stack", choices=["embedded", "production", "both"], default="both")
    args = parser.parse_args()
    kinds = ["embedded", "production"] if args.stack == "both" else [args.stack]
    results = [run_stack(kind, args.tasks) for kind in kinds]
    machine = describe()
    out = ROOT / "bench" / "results" / f"overhead-{slug(machine)}.json"
    out.write_text(
        json.dumps({"benchmark": "overhead", "machine": machine, "results": results}, indent=2) + "\n"
    )
    for row in results:
        print(
            f"{row['stack']:10}  engine {row['engine_s_median']:.3f} s"
            f"  overhead median {row['overhead_s_median']:.3f} s"
            f"  p95 {row['overhead_s_p95']:.3f} s  (client-observed {row['client_overhead_s_median']:.3f} s)"
        )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
