"""The GPU-free guard (issue 13): the GPU worker's page path, run by a real `ocrp worker` with
the stand-in engine, must not cost the worker process more than twice the committed CPU per
page (bench/results/worker-path-2vcpu.json). Takes about a minute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.worker_path import RESULTS, guard_problem, load_results

ROOT = Path(__file__).resolve().parents[2]


def test_the_guard_compares_with_the_committed_reference() -> None:
    results = {"reference": {"worker_cpu_ms_per_page": 20.0}, "limit_factor": 2}
    assert guard_problem({"worker_cpu_ms_per_page": 39.9}, results) is None
    problem = guard_problem({"worker_cpu_ms_per_page": 40.1}, results)
    assert problem is not None
    assert "40.1 ms" in problem
    assert "20.0 ms" in problem
    assert guard_problem({"worker_cpu_ms_per_page": None}, results) is not None


def test_the_committed_reference_exists() -> None:
    reference = load_results()["reference"]
    assert reference is not None, RESULTS
    assert reference["worker_cpu_ms_per_page"] > 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_worker_path_stays_within_twice_the_committed_cpu_per_page() -> None:
    # a clean environment: the worker runs on the embedded default in its own folder, whatever
    # the test session points OCR_* at
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    run = subprocess.run(
        [sys.executable, "-m", "bench.worker_path", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    measured = json.loads(next(line for line in run.stdout.splitlines() if line.startswith("{")))
    assert measured["pages_done"] == 96
