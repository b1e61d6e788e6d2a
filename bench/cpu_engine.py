"""CPU engine throughput: render + Tesseract on real PDF pages, one and two threads.

    python -m bench.cpu_engine [--pages 12] [--dpi 144]

Writes bench/results/cpu-engine-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.machine import describe, slug
from shared.documents.inspect import Limits
from shared.options import TaskOptions
from worker.engines.base import PageRequest
from worker.engines.tesseract import TesseractEngine
from worker.pipeline.render import render_pdf_page

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ROOT / "tests/data/book-4p.pdf",
    ROOT / "tests/data/lots_of_sci_tables.pdf",
    ROOT / "tests/data/olmo-page-1.pdf",
]
LIMITS = Limits(max_pages=2000, max_image_pixels=80_000_000)


def pages(count: int) -> list[tuple[Path, int]]:
    import pymupdf

    all_pages = [(doc, n) for doc in DOCS for n in range(1, pymupdf.open(doc).page_count + 1)]
    return [all_pages[i % len(all_pages)] for i in range(count)]


def run(threads: int, work: list[tuple[Path, int]], dpi: int) -> dict[str, float]:
    engine = TesseractEngine(instances=threads)
    render_s: list[float] = []
    engine_s: list[float] = []
    lock = threading.Lock()

    def one(item: tuple[Path, int]) -> None:
        started = time.perf_counter()
        page = render_pdf_page(str(item[0]), item[1], dpi, LIMITS)
        rendered = time.perf_counter()
        engine.recognize(PageRequest("bench", item[1], page.image, page.dpi, TaskOptions()))
        with lock:
            render_s.append(rendered - started)
            engine_s.append(time.perf_counter() - rendered)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, work))
    wall = time.perf_counter() - started
    engine.close()
    return {
        "threads": threads,
        "pages": len(work),
        "wall_s": round(wall, 2),
        "pages_per_s": round(len(work) / wall, 3),
        "render_ms_median": round(statistics.median(render_s) * 1000, 1),
        "engine_ms_median": round(statistics.median(engine_s) * 1000, 1),
        "engine_ms_p95": round(sorted(engine_s)[int(0.95 * (len(engine_s) - 1))] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--dpi", type=int, default=144)
    args = parser.parse_args()
    work = pages(args.pages)
    run(1, work[:1], args.dpi)  # warm-up: model load, caches
    results = [run(threads, work, args.dpi) for threads in (1, 2)]
    machine = describe()
    record = {
        "benchmark": "cpu_engine",
        "engine": "tesseract (tessdata_fast eng)",
        "dpi": args.dpi,
        "documents": [d.name for d in DOCS],
        "machine": machine,
        "results": results,
    }
    out = ROOT / "bench" / "results" / f"cpu-engine-{slug(machine)}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    for row in results:
        print(
            f"threads={row['threads']}  {row['pages_per_s']:.2f} pages/s  render {row['render_ms_median']} ms"
            f"  engine {row['engine_ms_median']} ms (p95 {row['engine_ms_p95']})"
        )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
