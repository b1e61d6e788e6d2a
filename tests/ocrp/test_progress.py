"""What the backfill progress bar shows, from a batch resource."""

from __future__ import annotations

from typing import Any

from ocrp.commands.backfill import idempotency_key
from ocrp.progress import batch_fields


def resource(total: int | None, listed: int, done: int, eta: float | None, partial: bool) -> dict[str, Any]:
    return {
        "status": "running",
        "finished_at": None,
        "source": {"total": total, "listed": listed},
        "counts": {"failed": 3},
        "progress": {
            "documents_done": done,
            "pages_done": 42,
            "documents_per_min": 12.5,
            "eta_s": eta,
            "eta_partial": partial,
        },
    }


def test_a_known_total_shows_done_of_total_and_the_eta() -> None:
    fields = batch_fields(resource(total=100, listed=100, done=25, eta=3725, partial=False))
    assert fields["docs"] == "25/100"
    assert (fields["total"], fields["completed"]) == (100, 25)
    assert (fields["pages"], fields["failed"], fields["rate"], fields["eta"]) == (
        42,
        3,
        "12.5 docs/min",
        "1:02:05",
    )


def test_while_an_s3_listing_runs_the_total_is_a_lower_bound() -> None:
    fields = batch_fields(resource(total=None, listed=400, done=25, eta=90, partial=True))
    assert fields["docs"] == "25/400+"
    assert fields["eta"] == "1:30+"


def test_the_resume_key_depends_on_the_source_and_the_options_only() -> None:
    key = idempotency_key("s3://in/scans/\0*.pdf", {"mode": "base"})
    assert key == idempotency_key("s3://in/scans/\0*.pdf", {"mode": "base"})
    assert key != idempotency_key("s3://in/scans/\0*.pdf", {"mode": "tiny"})
    assert key != idempotency_key("s3://in/other/\0*.pdf", {"mode": "base"})
    assert key.startswith("backfill-")
    assert len(key) <= 200
