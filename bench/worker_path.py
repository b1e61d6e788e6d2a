"""The GPU worker's page path without a GPU: the guard that keeps its CPU cost in view.

A real `ocrp worker` process (embedded default: SQLite, filesystem broker, local storage) runs
the GPU worker's path -- claim, render + prepare in the render processes, engine, layout,
crops, checkpoints, events, results -- with the stand-in engine (`worker/engines/standin.py`):
Gundam-size prepared inputs (~21 MB of bf16 a page) and ~1,000 tokens of grounding markdown
a page, answered at once. What it reports is what the worker itself costs around the engine:
worker-process CPU-ms per page (on the GPU this process also runs vLLM's frontend, and its
budget there is ~50 ms a page at 20 pages/s), render processes' CPU-ms per page, the ready
time and pages/s (bounded here by the 2 vCPUs of rendering).

usage:
    python -m bench.worker_path                       # measure, print the row
    python -m bench.worker_path --save LABEL          # ... and add it to the results file
    python -m bench.worker_path --check               # fail when worker CPU/page > 2x reference

The results file (bench/results/worker-path-2vcpu.json) keeps every saved run; its
`reference` is the figure `--check` (and tests/bench/test_worker_path_guard.py) compares with.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.gpu.pipeline import parse_args as pipeline_args
from bench.gpu.pipeline import run_bench

RESULTS = Path(__file__).parent / "results" / "worker-path-2vcpu.json"
LIMIT_FACTOR = 2.0  # the guard fails above this multiple of the reference


def measure(docs: int, pages_per_doc: int, extra: list[list[str]] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ocrp-worker-path-") as tmp:
        argv = [
            "--engine=standin",
            "--mode=gundam",
            f"--docs={docs}",
            f"--pages-per-doc={pages_per_doc}",
            "--concurrency=8",
            "--pages-in-flight=16",
            "--max-tokens=1000",
            "--ready-timeout=180",
            "--timeout=240",
            "--bench=worker_path",
            f"--out={tmp}/rows.jsonl",
            f"--log={tmp}/worker.log",
            # two render processes: the machine's two cores (the default keeps 4 cores free)
            "--set",
            "OCR_DEEPSEEK_PREPARE_PROCESSES",
            "2",
        ]
        for name, value in extra or []:
            argv += ["--set", name, value]
        row = run_bench(pipeline_args(argv))
        if row["tasks_succeeded"] != row["tasks"]:
            print(Path(tmp, "worker.log").read_text()[-4000:], file=sys.stderr)
            raise SystemExit(f"{row['tasks'] - row['tasks_succeeded']} task(s) did not succeed")
        return row


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    if not path.exists():
        return {"reference": None, "limit_factor": LIMIT_FACTOR, "runs": []}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def guard_problem(row: dict[str, Any], results: dict[str, Any]) -> str | None:
    """Why the run fails the guard, or None. Pure: plain data in."""
    reference = (results.get("reference") or {}).get("worker_cpu_ms_per_page")
    if not reference:
        return None
    factor = float(results.get("limit_factor", LIMIT_FACTOR))
    measured = row["worker_cpu_ms_per_page"]
    if measured is None or measured > factor * reference:
        return (
            f"the worker process spent {measured} ms of CPU per page on the stand-in path, more "
            f"than {factor:g} x the committed {reference} ms ({RESULTS.name}); profile the "
            "change (py-spy, or --set to isolate a setting) or, if the cost is intended, save "
            "a new reference with --save and explain it in docs/gpu-worker.md"
        )
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=12)
    ap.add_argument("--pages-per-doc", type=int, default=8)
    ap.add_argument("--save", metavar="LABEL", help="add the run to the results file")
    ap.add_argument("--reference", action="store_true", help="with --save: make it the reference")
    ap.add_argument("--check", action="store_true", help="fail above limit_factor x the reference")
    ap.add_argument("--set", nargs=2, action="append", metavar=("VAR", "VALUE"), help="extra worker env")
    args = ap.parse_args()
    row = measure(args.docs, args.pages_per_doc, args.set)
    keys = ("pages_done", "pages_per_s", "worker_cpu_ms_per_page", "render_cpu_ms_per_page", "worker_ready_s")
    print(json.dumps({k: row[k] for k in keys}))
    results = load_results()
    if args.save:
        row["label"] = args.save
        results["runs"].append(row)
        if args.reference or results.get("reference") is None:
            results["reference"] = {k: row[k] for k in ("label", *keys)}
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    if args.check:
        problem = guard_problem(row, results)
        if problem:
            raise SystemExit(problem)
        print("guard: ok")


if __name__ == "__main__":
    main()
