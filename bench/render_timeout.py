"""The cost of rendering in a killable child process (OCR_RENDER_TIMEOUT_S > 0) against
rendering in the worker process: the same pages, one after another, both ways.

    python -m bench.render_timeout [--pages 24] [--dpi 144]

Writes bench/results/render-timeout-<machine>.json. The child's cost is the page image's trip
through a pipe (pickled RGB bytes) and, once per child, the spawn (python + PyMuPDF imports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.machine import describe, slug
from shared.documents.inspect import Limits
from worker.pipeline.render import RenderedPage, render_page
from worker.pipeline.render_deadline import TimedRenderer

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "tests/data/book-4p.pdf", ROOT / "tests/data/lots_of_sci_tables.pdf"]
LIMITS = Limits(max_pages=2000, max_image_pixels=80_000_000)


def pages(count: int) -> list[tuple[Path, int]]:
    import pymupdf

    all_pages = [(doc, n) for doc in DOCS for n in range(1, pymupdf.open(doc).page_count + 1)]
    return [all_pages[i % len(all_pages)] for i in range(count)]


def timed(render: Callable[..., RenderedPage], work: list[tuple[Path, int]], dpi: int) -> list[float]:
    times = []
    for path, number in work:
        started = time.perf_counter()
        page = render(str(path), True, number, dpi, LIMITS)
        times.append(time.perf_counter() - started)
        assert page.image.size[0] > 0
    return times


def summary(name: str, times: list[float], pixels: int) -> dict[str, object]:
    return {
        "renderer": name,
        "pages": len(times),
        "ms_median": round(statistics.median(times) * 1000, 1),
        "ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 1),
        "megapixels_per_page": round(pixels / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--dpi", type=int, default=144)
    args = parser.parse_args()
    work = pages(args.pages)
    sample = render_page(str(work[0][0]), True, work[0][1], args.dpi, LIMITS).image.size
    pixels = sample[0] * sample[1]

    timed(render_page, work[:2], args.dpi)  # warm the in-process document cache
    in_process = timed(render_page, work, args.dpi)

    started = time.perf_counter()
    child = TimedRenderer(timeout_s=60, processes=1)
    timed(child, work[:1], args.dpi)
    spawn_s = time.perf_counter() - started
    in_child = timed(child, work, args.dpi)
    child.close()

    results = [summary("in-process", in_process, pixels), summary("child process", in_child, pixels)]
    overhead = statistics.median(in_child) - statistics.median(in_process)
    machine = describe()
    record = {
        "benchmark": "render_timeout",
        "dpi": args.dpi,
        "documents": [d.name for d in DOCS],
        "machine": machine,
        "results": results,
        "child_start_s": round(spawn_s, 2),
        "overhead_ms_median": round(overhead * 1000, 1),
    }
    out = ROOT / "bench" / "results" / f"render-timeout-{slug(machine)}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    for row in results:
        print(f"{row['renderer']:<14} median {row['ms_median']} ms  p95 {row['ms_p95']} ms")
    print(f"child start {spawn_s:.2f} s; overhead per page {overhead * 1000:.1f} ms (median)")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
