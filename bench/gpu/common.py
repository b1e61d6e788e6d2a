"""What the GPU benchmarks share: A4 test documents, GPU and CPU sampling, result records."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import psutil

A4_DPI = 150  # an A4 page at 150 dpi is 1240 x 1754 pixels, the size the targets are set for
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "this",
    "are",
    "or",
    "from",
    "at",
    "which",
    "have",
    "an",
    "invoice",
    "total",
    "amount",
    "date",
    "customer",
    "order",
    "number",
    "page",
    "section",
    "table",
    "figure",
    "report",
    "summary",
    "result",
    "method",
    "analysis",
    "value",
    "system",
    "data",
    "model",
    "process",
    "2024",
    "2025",
    "12.50",
    "340.00",
    "EUR",
    "USD",
    "Ltd.",
]


def make_pdf(path: Path, pages: int, seed: int) -> Path:
    """An A4 PDF whose pages carry a title, paragraphs and a ruled table of random words."""
    import pymupdf

    rnd = random.Random(seed)
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page(width=595.28, height=841.89)
        y = 60.0
        page.insert_text((50, y), " ".join(rnd.choice(WORDS).title() for _ in range(5)), fontsize=18)
        y += 36
        table_at = rnd.uniform(0.35, 0.6) * 842
        while y < 800:
            if table_at and y > table_at:
                rows, cols = rnd.randint(5, 9), rnd.randint(3, 5)
                width = (595 - 100) / cols
                for r in range(rows):
                    for c in range(cols):
                        x0, y0 = 50 + c * width, y + r * 16
                        page.draw_rect(pymupdf.Rect(x0, y0, x0 + width, y0 + 16), color=(0, 0, 0), width=0.5)
                        page.insert_text((x0 + 3, y0 + 12), rnd.choice(WORDS), fontsize=9)
                y += rows * 16 + 16
                table_at = 0
                continue
            page.insert_text(
                (50, y), " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 14))), fontsize=10
            )
            y += 14 if rnd.random() > 0.12 else 28
    doc.save(path)
    doc.close()
    return path


def render_pages(path: Path, count: int) -> list[Any]:
    """The first `count` pages as RGB images at A4_DPI."""
    import pymupdf
    from PIL import Image

    images = []
    with pymupdf.open(path) as doc:
        for number in range(min(count, doc.page_count)):
            pix = doc.load_page(number).get_pixmap(dpi=A4_DPI, alpha=False, colorspace="rgb")
            images.append(Image.frombytes("RGB", (pix.width, pix.height), pix.samples))
    return images


class GpuSampler(threading.Thread):
    """Samples NVML every 0.2 s: utilisation (share of time a kernel ran) and memory used."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int, float]] = []
        self.stopped = threading.Event()
        self.gpu: str | None = None
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # no GPU here: the harness still runs (CPU engine dry runs)
            self.nv = None
            return
        self.nv = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(self.handle)
        self.gpu = name.decode() if isinstance(name, bytes) else str(name)

    def run(self) -> None:
        while self.nv is not None and not self.stopped.is_set():
            util = self.nv.nvmlDeviceGetUtilizationRates(self.handle).gpu
            used = self.nv.nvmlDeviceGetMemoryInfo(self.handle).used / 2**20
            self.samples.append((time.time(), util, used))
            time.sleep(0.2)

    def window(self, start: float, end: float) -> dict[str, Any]:
        inside = [s for s in self.samples if start <= s[0] <= end]
        if not inside:
            return {"gpu_busy_pct": None, "gpu_mem_used_mib": None}
        return {
            "gpu_busy_pct": round(sum(s[1] for s in inside) / len(inside), 1),
            "gpu_mem_used_mib": round(max(s[2] for s in inside)),
        }


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds (user + system) of a process and of each of its descendants, by name."""
    totals: dict[str, float] = {}
    try:
        procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return totals
    for proc in procs:
        try:
            times = proc.cpu_times()
            name = proc.name()
        except psutil.NoSuchProcess:
            continue
        key = "self" if proc.pid == root else name
        totals[key] = totals.get(key, 0.0) + times.user + times.system
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0.0), 1) for k in after}


def kill_children() -> None:
    """End every process this one started (vLLM's engine core holds our stdout open)."""
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def host_facts() -> dict[str, Any]:
    """What a row needs to be compared with others: machines of one kind differ (up to 1.6x
    on the lent H200s, from the host CPU), so every row names its CPU model and GPU."""
    import os
    import platform
    import subprocess

    cpu = platform.processor() or None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        cpu = next(
            (line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), cpu
        )
    gpus = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
        gpus = [line.strip() for line in out.splitlines() if line.strip()] or None
    return {
        "machine": os.environ.get("BENCH_MACHINE", platform.node()),
        "cpu_model": cpu,
        "cpus": os.cpu_count(),
        "gpu_name": gpus[0] if gpus else None,
        "gpus": len(gpus) if gpus else 0,
        "commit": _commit(),
    }


def _commit() -> str | None:
    import subprocess

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None
    return None


def record(path: Path, row: dict[str, Any]) -> None:
    row = {**host_facts(), **row}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    print("RESULT", json.dumps(row), flush=True)
