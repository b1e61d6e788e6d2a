"""Issue 19, item 3: a `url` source that sends a byte every few seconds held a worker slot for
minutes, because only each read was timed. Now a download has a total deadline
(OCR_FETCH_DEADLINE_S) and a minimum rate (OCR_FETCH_MIN_BYTES_PER_S over
OCR_FETCH_RATE_WINDOW_S); the deadline also bounds a webhook try. Real loopback servers that
drip, real downloads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.errors import TransientError
from shared.outbound.client import OutboundClient
from shared.urls import parse_allowlist
from tests.hostile.outbound_servers import drip_body, drip_headers, pdf, serve
from worker.pipeline.source import download_url
from worker.webhooks.sender import SendPolicy, post


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "url_allowlist": "127.0.0.0/8",
        "fetch_timeout_s": 5,  # every drip below arrives well within one read's timeout
        "fetch_deadline_s": 60,
        "fetch_min_bytes_per_s": 0,
        "fetch_rate_window_s": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def timed_failure(url: str, path: Path, config: Settings) -> tuple[TransientError, float]:
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        download_url(url, str(path), config)
    return caught.value, time.monotonic() - started


def test_a_body_below_the_minimum_rate_fails_after_one_window(tmp_path: Path) -> None:
    with serve(drip_body(every_s=0.05)) as server:  # 20 bytes/s, 10 MB declared
        error, took = timed_failure(
            f"{server.base}/doc.pdf", tmp_path / "in", settings(tmp_path, fetch_min_bytes_per_s=1000)
        )
    assert error.code == "fetch_too_slow"
    assert "below the minimum of 1,000 bytes/s" in error.message
    assert took < 4, f"held the slot {took:.1f}s for a 1s window"


def test_a_body_fast_enough_but_endless_ends_at_the_deadline(tmp_path: Path) -> None:
    with serve(drip_body(every_s=0.02, chunk=b"%" * 2048)) as server:  # ~100 KB/s, above the floor
        error, took = timed_failure(
            f"{server.base}/doc.pdf",
            tmp_path / "in",
            settings(tmp_path, fetch_min_bytes_per_s=1000, fetch_deadline_s=1.5),
        )
    assert error.code == "fetch_timeout"
    assert 1.4 < took < 4


def test_headers_dripped_a_byte_at_a_time_end_at_the_deadline(tmp_path: Path) -> None:
    # no body arrives, so only the deadline can end it: each byte comes within the read timeout
    with serve(drip_headers(every_s=0.05)) as server:
        error, took = timed_failure(
            f"{server.base}/doc.pdf", tmp_path / "in", settings(tmp_path, fetch_deadline_s=1.5)
        )
    assert error.code == "fetch_timeout"
    assert "longer than OCR_FETCH_DEADLINE_S (1.5s)" in error.message
    assert 1.4 < took < 4
    assert not (tmp_path / "in").exists()


def test_a_normal_download_passes_the_floor(tmp_path: Path) -> None:
    with serve(pdf()) as server:
        _, size = download_url(
            f"{server.base}/doc.pdf",
            str(tmp_path / "in"),
            settings(tmp_path, fetch_min_bytes_per_s=1_000_000, fetch_deadline_s=5),
        )
    assert size == (tmp_path / "in").stat().st_size > 0


def test_a_webhook_receiver_that_drips_its_headers_ends_at_the_deadline() -> None:
    with serve(drip_headers(every_s=0.05)) as server, OutboundClient(parse_allowlist("127.0.0.1")) as client:
        started = time.monotonic()
        result = post(client, f"{server.base}/hook", b"{}", {}, SendPolicy(timeout_s=1, max_redirects=0))
    assert result.status_code is None
    assert result.error == "timed out after 1s"
    assert time.monotonic() - started < 3
