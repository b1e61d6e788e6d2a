"""The `/ops` dashboard in a real browser (Debian's Chromium driven by Playwright) on a running
stack: the figures it shows are those of `GET /v1/ops/stats`, it loads nothing from outside the
app, and it refreshes itself. A screenshot lands in tests/artifacts/ops-dashboard.png."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.services import wait_for
from tests.fixtures.stack import REPO, build_stack

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def expected_figures(stats: dict[str, Any]) -> dict[str, str]:
    """Every figure the page marks with `data-stat`, as it should read."""
    tasks, throughput = stats["tasks"], stats["throughput"]
    alive = sum(1 for w in stats["workers"] if w["state"] == "alive")
    figures = {f"tasks.{status}": str(n) for status, n in tasks.items() if status in ("queued", "running")}
    figures.update(
        {
            "throughput.pages_per_minute": str(throughput["pages_per_minute"]),
            "throughput.pages_succeeded": str(throughput["pages_succeeded"]),
            "throughput.pages_failed": str(throughput["pages_failed"]),
            "throughput.tasks_failed": str(throughput["tasks_failed"]),
            "workers.alive": str(alive),
            "workers.stale": str(len(stats["workers"]) - alive),
            "in_flight.count": str(len(stats["in_flight"])),
        }
    )
    for queue in stats["queues"]:
        for field in ("depth", "queued_tasks", "running_tasks"):
            value = queue[field]
            figures[f"queues.{queue['name']}.{field}"] = "\u2013" if value is None else str(value)
    for code in stats["failure_codes"]:
        figures[f"failure_codes.{code['code']}"] = str(code["tasks"])
    for worker in stats["workers"]:
        figures[f"workers.{worker['id']}.tasks_in_flight"] = str(worker["tasks_in_flight"])
        figures[f"workers.{worker['id']}.state"] = worker["state"]
    return figures


def test_the_dashboard_shows_the_stats_in_a_browser(tmp_path: Path, data_dir: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")

    stack = build_stack(
        "dashboard", tmp_path, worker_heartbeat_s=1.0, ops_refresh_s=2, ops_sample_interval_s=1.0
    )
    try:
        stack.start_worker("--beat", worker_metrics_port=0)
        _, base = stack.start_api_server()
        good = stack.submit_file(data_dir / "olmo-page-1.pdf")
        missing = httpx.post(f"{base}/v1/tasks", json={"url": f"{base}/no/such/document.pdf"}, timeout=30)
        assert missing.status_code == 202, missing.text
        assert stack.wait_task(good["id"])["status"] == "succeeded"
        failed = stack.wait_task(missing.json()["id"])
        assert (failed["status"], failed["error"]["code"]) == ("failed", "fetch_failed")

        def stats() -> dict[str, Any]:
            return dict(httpx.get(f"{base}/v1/ops/stats", timeout=30).json())

        wait_for(
            lambda: stats()["workers"] and len(stats()["queue_history"][0]["points"]) >= 3, 30, "samples"
        )

        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            requested: list[str] = []
            errors: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def shown() -> dict[str, str]:
                pairs = page.eval_on_selector_all(
                    "[data-stat]", "els => els.map(e => [e.dataset.stat, e.textContent.trim()])"
                )
                return {path: text for path, text in pairs}

            # a heartbeat may land between the page and the JSON: compare a fresh pair again
            for _ in range(3):
                page.goto(f"{base}/ops", wait_until="load")
                on_page, truth = shown(), expected_figures(stats())
                if on_page == truth:
                    break
            assert on_page == truth
            assert on_page["throughput.pages_succeeded"] == "1"
            assert on_page["workers.alive"] == "1"
            assert on_page["failure_codes.fetch_failed"] == "1"  # the URL answered 404
            assert page.locator("svg polyline").count() >= 1  # the queue-depth chart has lines
            assert page.locator("svg rect").count() >= 1  # and the throughput chart a bar
            assert "No batch in progress." in page.content()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ops-dashboard.png"), full_page=True)

            # the page refreshes itself from the server
            status = page.locator("#status")
            wait_for(lambda: "updated" in status.text_content(), 15, "a refresh")
            assert any(url.startswith(f"{base}/ops/fragment") for url in requested)
            time.sleep(0.5)
            assert shown().keys() == on_page.keys()
            browser.close()

        assert requested, "the browser made no request"
        outside = [url for url in requested if not url.startswith(base)]
        assert outside == [], f"the dashboard loaded assets from outside the app: {outside}"
        assert errors == []
    finally:
        stack.close()
