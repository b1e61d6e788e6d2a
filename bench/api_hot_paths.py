"""The API's hot paths against the framework itself: requests/s of each polling endpoint next to
a bare FastAPI app (`bench.bare_api`) serving the same JSON body from a dict, in the same run on
the same machine, so that the ratio survives a noisy machine.

For each stack (`embedded`: SQLite; `production`: PostgreSQL + Redis) and each uvicorn worker
count, the real API and the bare app run side by side and `wrk` (Debian's `wrk` package) takes
turns on them, endpoint by endpoint, `--repeat` times; the medians and their ratio are kept.
Rate limiting is off (the poll of the benchmark would hit it), authentication is on.

`--sse N` also opens N idle event streams (one per queued task) on one API process and
records its CPU use and memory while they idle.

    python -m bench.api_hot_paths [--stack embedded|production|both] [--workers 1,4]
        [--duration 5] [--repeat 3] [--sse 500] [--label after]

Writes bench/results/api-hot-paths-<machine>.json (one entry per --label, other labels kept).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.machine import describe
from bench.overhead import _free_port, _production_env, _spawn, _wait_ready

ROOT = Path(__file__).resolve().parents[1]
OWNER = "bench"
LIST_SIZE = 50
ENDPOINTS = {
    "task": "/v1/tasks/{id}",
    "list": "/v1/tasks?limit=50",
    "pages": "/v1/tasks/{id}/pages",
}


def _seed(database_url: str, finished: int, queued: int) -> tuple[list[str], list[str]]:
    """Finished one-page tasks (the polled one among them) and queued ones (to watch)."""
    from shared.clock import utcnow
    from shared.db.models import Page, SourceKind, Task, TaskStatus
    from shared.db.session import session_scope
    from shared.ids import new_id

    done, waiting = [], []
    now = utcnow()
    with session_scope(database_url) as session:
        for index in range(finished + queued):
            is_done = index < finished
            task = Task(
                id=new_id("tsk"),
                owner=OWNER,
                status=TaskStatus.succeeded if is_done else TaskStatus.queued,
                queue="ocr.interactive",
                source_kind=SourceKind.upload,
                filename="olmo-page-1.pdf",
                content_type="application/pdf",
                size_bytes=123_456,
                sha256="ab" * 32,
                options={"mode": "gundam", "prompt": "document"},
                page_count=1,
                pages_total=1 if is_done else None,
                pages_done=1 if is_done else 0,
                attempts=1 if is_done else 0,
                engine="tesseract" if is_done else None,
                created_at=now,
                started_at=now + timedelta(seconds=0.04) if is_done else None,
                finished_at=now + timedelta(seconds=1.1) if is_done else None,
                result_keys={"images": ["p1-0.png", "p1-1.png"]} if is_done else None,
            )
            session.add(task)
            session.flush()
            if is_done:
                session.add(
                    Page(
                        task_id=task.id,
                        number=1,
                        status="succeeded",
                        width=1224,
                        height=1584,
                        dpi=144,
                        blocks=12,
                        output_tokens=800,
                        render_ms=50,
                        engine_ms=990,
                        finished_at=now,
                    )
                )
                done.append(task.id)
            else:
                waiting.append(task.id)
    return done, waiting


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, key: str | None, duration: int, connections: int = 16) -> dict[str, float]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url]
    if key:
        args[1:1] = ["-H", f"Authorization: Bearer {key}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    latency = _LATENCY.search(out)
    rps = _RPS.search(out)
    if latency is None or rps is None:
        raise RuntimeError(f"cannot read wrk's report:\n{out}")
    return {"rps": float(rps.group(1)), "latency_ms": float(latency.group(1)) * _UNIT_MS[latency.group(2)]}


def _serve_api(stack: ExitStack, env: dict[str, str], base: Path, workers: int) -> tuple[str, int]:
    port = _free_port()
    api = _spawn(["serve", "--port", str(port), "--workers", str(workers)], env, base / f"api-{workers}.log")
    stack.callback(api.wait, 30)
    stack.callback(api.terminate)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url)
    return url, api.pid


def _serve_bare(stack: ExitStack, env: dict[str, str], base: Path, workers: int, bodies: Path) -> str:
    bare_port = _free_port()
    bare_env = {**env, "BENCH_BODIES": str(bodies)}
    with (base / f"bare-{workers}.log").open("wb") as log:
        bare = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bench.bare_api:app_factory",
             "--port", str(bare_port), "--workers", str(workers), "--log-level", "warning"],
            env=bare_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    stack.callback(bare.wait, 30)
    stack.callback(bare.terminate)
    bare_url = f"http://127.0.0.1:{bare_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{bare_url}/v1/tasks", timeout=2)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return bare_url


def _bodies(url: str, key: str, task_id: str, path: Path) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    bodies = {}
    for name, template in ENDPOINTS.items():
        response = httpx.get(url + template.format(id=task_id), headers=headers, timeout=30)
        response.raise_for_status()
        bodies[name] = response.json()
    path.write_text(json.dumps(bodies))


def compare(url: str, bare_url: str, key: str, task_id: str, duration: int, repeat: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for name, template in ENDPOINTS.items():
        path = template.format(id=task_id)
        wrk(url + path, key, 2)  # warm-up: imports, pools, caches
        wrk(bare_url + path, None, 2)
        real, bare = [], []
        for _ in range(repeat):  # taking turns, so that a busy moment hits both
            bare.append(wrk(bare_url + path, None, duration))
            real.append(wrk(url + path, key, duration))
        real_rps = statistics.median(r["rps"] for r in real)
        bare_rps = statistics.median(r["rps"] for r in bare)
        rows[name] = {
            "path": template,
            "rps": round(real_rps, 1),
            "latency_ms": round(statistics.median(r["latency_ms"] for r in real), 2),
            "bare_rps": round(bare_rps, 1),
            "bare_latency_ms": round(statistics.median(r["latency_ms"] for r in bare), 2),
            "ratio": round(real_rps / bare_rps, 3),
            "runs": {"real_rps": [r["rps"] for r in real], "bare_rps": [r["rps"] for r in bare]},
        }
        print(f"    {name:6} {real_rps:8.1f} req/s vs bare {bare_rps:8.1f}  = {real_rps / bare_rps:.0%}")
    return rows


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


def idle_watchers(
    url: str, pid: int, key: str, task_ids: list[str], base: Path, window_s: float
) -> dict[str, Any]:
    ids = base / "watch-ids.txt"
    ids.write_text("\n".join(task_ids))
    rss_before = _rss_mb(pid)
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.sse_watchers", url, key, str(ids)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert client.stdout is not None
        line = client.stdout.readline().strip()
        print(f"    watchers: {line}")
        if not line.startswith(f"open {len(task_ids)} "):
            raise RuntimeError(f"watchers did not all open: {line}")
        time.sleep(3)  # the ramp's own work settles
        cpu0, t0 = _proc_cpu_s(pid), time.monotonic()
        if os.environ.get("BENCH_PYSPY"):  # where the idle CPU goes, for whoever tunes it
            subprocess.run(
                ["py-spy", "record", "-p", str(pid), "-d", str(int(window_s)), "-f", "raw", "-r", "50",
                 "-o", os.environ["BENCH_PYSPY"]], check=False, capture_output=True,
            )  # fmt: skip
        else:
            time.sleep(window_s)
        cpu = (_proc_cpu_s(pid) - cpu0) / (time.monotonic() - t0)
        rss = _rss_mb(pid)
    finally:
        client.terminate()
        client.wait(30)
    print(f"    {len(task_ids)} idle watchers: {cpu:.1%} of a core, RSS {rss} MB (before {rss_before} MB)")
    return {
        "watchers": len(task_ids),
        "window_s": window_s,
        "cpu_core_fraction": round(cpu, 4),
        "rss_mb": rss,
        "rss_mb_before": rss_before,
    }


def run_stack(kind: str, workers_list: list[int], duration: int, repeat: int, sse: int) -> dict[str, Any]:
    from shared.config import Settings

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ocrp-hot-") as tmp:
        base = Path(tmp)
        (base / "s3").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
        env.update(
            {"OCR_DATA_DIR": str(base / "var"), "OCR_LOG_LEVEL": "WARNING", "OCR_RATE_LIMIT_PER_S": "0"}
        )
        if kind == "production":
            env.update(_production_env(stack, base))
            env["OCR_BROKER_URL"] = "redis://127.0.0.1:6379/13"
        subprocess.run([sys.executable, "-m", "ocrp.main", "db", "upgrade"], env=env, check=True, cwd=ROOT)
        key = subprocess.run(
            [sys.executable, "-m", "ocrp.main", "keys", "create", "--owner", OWNER, "--scope", "read"],
            env=env, check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout.strip()  # fmt: skip
        settings = Settings(
            _env_file=None, data_dir=base / "var", database_url=env.get("OCR_DATABASE_URL", "")
        )  # type: ignore[call-arg]
        done, queued = _seed(settings.database_url, LIST_SIZE + 10, sse)
        task_id = done[-1]
        result: dict[str, Any] = {"stack": kind, "workers": {}}
        bodies = base / "bodies.json"
        for workers in workers_list:
            with ExitStack() as servers:
                url, pid = _serve_api(servers, env, base, workers)
                if not bodies.exists():  # the bare app serves the bodies the platform answered
                    _bodies(url, key, task_id, bodies)
                bare_url = _serve_bare(servers, env, base, workers, bodies)
                print(f"  {kind}, {workers} uvicorn worker(s)")
                if duration > 0:
                    result["workers"][str(workers)] = compare(url, bare_url, key, task_id, duration, repeat)
                if sse and workers == 1:
                    result["idle_sse"] = idle_watchers(url, pid, key, queued, base, window_s=20)
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stack", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--workers", default="1,4")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (0: no comparison)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sse", type=int, default=500, help="idle event streams to measure (0: none)")
    parser.add_argument("--label", default="after", help="the entry of the results file to write")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk: apt-get install wrk")
    kinds = ["embedded", "production"] if args.stack == "both" else [args.stack]
    workers = [int(w) for w in args.workers.split(",")]
    results = [run_stack(kind, workers, args.duration, args.repeat, args.sse) for kind in kinds]
    machine = describe()
    out = ROOT / "bench" / "results" / "api-hot-paths-2vcpu.json"
    previous = json.loads(out.read_text()) if out.exists() else {"benchmark": "api_hot_paths", "runs": {}}
    previous["runs"][args.label] = {
        "machine": machine,
        "settings": {"duration_s": args.duration, "repeat": args.repeat, "wrk": "-t1 -c16"},
        "results": results,
    }
    out.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)} ({args.label})")


if __name__ == "__main__":
    main()
