"""The observation functions move the metrics operators alert on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from shared.clock import utcnow
from shared.metrics.pipeline import init_engine_series, observe_page, observe_task
from shared.metrics.webhooks import WebhookOutcome, observe_webhook_delivery, status_class


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_webhook_delivery_is_counted_by_outcome_and_status_class() -> None:
    before = value("ocrp_webhook_deliveries_total", outcome="delivered", status_class="2xx")
    timed_before = value("ocrp_webhook_delivery_duration_seconds_count", outcome="delivered")
    observe_webhook_delivery(WebhookOutcome.delivered, status_code=204, seconds=0.05)
    observe_webhook_delivery("delivered", status_code=200)
    assert value("ocrp_webhook_deliveries_total", outcome="delivered", status_class="2xx") == before + 2
    assert value("ocrp_webhook_delivery_duration_seconds_count", outcome="delivered") == timed_before + 1


def test_a_webhook_timeout_has_no_status_class() -> None:
    before = value("ocrp_webhook_deliveries_total", outcome="retrying", status_class="none")
    observe_webhook_delivery(WebhookOutcome.retrying, seconds=10.0)
    assert value("ocrp_webhook_deliveries_total", outcome="retrying", status_class="none") == before + 1


def test_an_unknown_webhook_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="lost"):
        observe_webhook_delivery("lost")


@pytest.mark.parametrize(
    ("code", "expected"),
    [(200, "2xx"), (301, "3xx"), (410, "4xx"), (503, "5xx"), (None, "none"), (999, "none")],
)
def test_status_class(code: int | None, expected: str) -> None:
    assert status_class(code) == expected


def test_engine_series_start_at_zero() -> None:
    init_engine_series("unit-engine")
    assert (
        REGISTRY.get_sample_value("ocrp_pages_processed_total", {"engine": "unit-engine", "status": "failed"})
        == 0
    )


def test_a_page_moves_counters_histograms_and_tokens() -> None:
    labels = {"engine": "unit-engine", "status": "succeeded"}
    before = value("ocrp_pages_processed_total", **labels)
    observe_page("unit-engine", "succeeded", 1.5, render_ms=100, engine_ms=1200, output_tokens=812)
    assert value("ocrp_pages_processed_total", **labels) == before + 1
    assert value("ocrp_page_duration_seconds_bucket", le="2.0", **labels) >= 1
    assert value("ocrp_page_stage_duration_seconds_count", engine="unit-engine", stage="engine") >= 1
    assert value("ocrp_engine_output_tokens_total", engine="unit-engine") >= 812


def test_a_failed_task_is_counted_with_its_code_and_latency() -> None:
    finished = utcnow()
    before = value("ocrp_task_failures_total", code="pdf_corrupt")
    observe_task("ocr.unit", "failed", "pdf_corrupt", finished - timedelta(seconds=42), finished)
    assert value("ocrp_task_failures_total", code="pdf_corrupt") == before + 1
    assert value("ocrp_tasks_finished_total", queue="ocr.unit", status="failed") >= 1
    assert value("ocrp_task_duration_seconds_sum", queue="ocr.unit", status="failed") >= 42
    assert value("ocrp_task_duration_seconds_bucket", queue="ocr.unit", status="failed", le="30.0") == 0
