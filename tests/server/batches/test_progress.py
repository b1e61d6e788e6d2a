"""Throughput and ETA from plain numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.batches.progress import estimate

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_rate_is_the_average_since_the_start_and_the_eta_follows_it() -> None:
    guess = estimate(
        done=120,
        pages_done=600,
        listed=300,
        total=1200,
        started_at=START,
        finished_at=None,
        now=START + timedelta(minutes=2),
    )
    assert (guess.documents_per_min, guess.pages_per_min) == (60.0, 300.0)
    assert guess.eta_s == 1080.0  # 1080 documents left at one a second
    assert guess.partial is False


def test_an_unknown_total_gives_an_eta_for_what_is_listed() -> None:
    guess = estimate(
        done=10,
        pages_done=10,
        listed=40,
        total=None,
        started_at=START,
        finished_at=None,
        now=START + timedelta(seconds=10),
    )
    assert guess.eta_s == 30.0
    assert guess.partial is True


def test_nothing_done_yet_or_finished_batches_have_no_eta() -> None:
    assert (
        estimate(done=0, pages_done=0, listed=5, total=5, started_at=START, finished_at=None, now=START).eta_s
        is None
    )
    assert (
        estimate(done=5, pages_done=5, listed=5, total=5, started_at=None, finished_at=None, now=START).eta_s
        is None
    )
    done = estimate(
        done=5,
        pages_done=5,
        listed=5,
        total=5,
        started_at=START,
        finished_at=START + timedelta(seconds=5),
        now=START,
    )
    assert (done.documents_per_min, done.eta_s) == (60.0, None)
