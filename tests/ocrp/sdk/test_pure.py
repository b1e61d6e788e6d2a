"""The SDK's pure parts with plain data: retry decisions, Retry-After, SSE framing, and which
request each kind of document becomes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ocrp.sdk import calls
from ocrp.sdk.answers import raise_for_error
from ocrp.sdk.errors import Conflict, InvalidRequest, NotFound, RateLimited, ServerError, Unavailable
from ocrp.sdk.retries import RetryPolicy, parse_retry_after
from ocrp.sdk.sse import EventParser
from ocrp.sdk.waiting import PollSchedule, is_terminal_event


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Fri, 04 Dec 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 04 Dec 2026 11:00:00 GMT", now) == 0.0  # in the past: now
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_policy_honours_retry_after_within_its_cap_and_backs_off_without_it() -> None:
    policy = RetryPolicy(attempts=5, backoff_s=0.5, max_wait_s=10)
    assert policy.wait_after_status(1, 3.0) == 3.0
    assert policy.wait_after_status(1, 120.0) == 10.0
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_poll_schedule_starts_quick_and_slows_down() -> None:
    schedule = PollSchedule(first_s=0.25, max_s=2.0)
    assert [schedule.next() for _ in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert schedule.next(retry_after=1.5) == 1.5
    assert schedule.next(retry_after=60) == 2.0


def test_event_parser_joins_data_lines_skips_comments_and_remembers_the_last_id() -> None:
    parser = EventParser()
    lines = [
        "retry: 3000",
        "",
        ": keep-alive",
        "",
        "id: 7",
        "event: status",
        'data: {"status":',
        'data: "running"}',
        "",
    ]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert len(events) == 1
    assert events[0].event == "status"
    assert events[0].id == "7"
    assert events[0].json() == {"status": "running"}
    assert parser.last_id == "7"
    assert is_terminal_event("status", {"status": "succeeded"})
    assert not is_terminal_event("page", {"status": "succeeded"})
    assert not is_terminal_event("status", {"status": "running"})


def test_each_kind_of_document_becomes_the_right_request(tmp_path: Path) -> None:
    url = calls.submit("https://example.com/a.pdf", {"mode": "base", "pages": None})
    assert (url.method, url.path, url.json) == (
        "POST",
        "/v1/tasks",
        {"url": "https://example.com/a.pdf", "mode": "base"},
    )
    s3 = calls.submit("s3://archive/a.pdf", {})
    assert s3.json == {"s3_uri": "s3://archive/a.pdf"}
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    upload = calls.submit(pdf, {"dpi": 200, "metadata": {"batch": "x"}})
    assert upload.path == "/v1/tasks/upload"
    assert upload.form == {"dpi": "200", "metadata": '{"batch": "x"}'}
    files = upload.files()
    assert files is not None
    assert files["file"][0] == "scan.pdf"
    as_text = calls.submit(str(pdf), {})
    assert as_text.path == "/v1/tasks/upload"
    raw = calls.submit(b"%PDF", {"filename": "named.pdf"})
    assert raw.upload is not None
    assert raw.upload.filename == "named.pdf"
    assert raw.form == {}


def test_a_retried_upload_starts_its_file_from_the_beginning_again() -> None:
    handle = io.BytesIO(b"0123456789")
    call = calls.submit(handle, {})
    first = call.files()
    assert first is not None
    first["file"][1].read()  # type: ignore[union-attr]
    second = call.files()
    assert second is not None
    assert second["file"][1].read() == b"0123456789"


def test_every_submission_carries_an_idempotency_key_and_keeps_a_given_one() -> None:
    made = calls.submit("https://example.com/a.pdf", {})
    assert len(made.headers["Idempotency-Key"]) == 36
    assert made.idempotent
    given = calls.submit("https://example.com/a.pdf", {}, idempotency_key="order-42")
    assert given.headers["Idempotency-Key"] == "order-42"
    assert calls.submit("https://example.com/a.pdf", {}).headers != made.headers  # one per submission
    assert not calls.cancel("tsk_1").idempotent  # not resent after a connection failure


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (404, NotFound),
        (409, Conflict),
        (422, InvalidRequest),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, Unavailable),
    ],
)
def test_error_answers_become_typed_errors_with_the_public_code(status: int, cls: type[Exception]) -> None:
    response = httpx.Response(
        status, json={"error": {"code": "some_code", "message": "what to do"}}, headers={"Retry-After": "4"}
    )
    with pytest.raises(cls) as raised:
        raise_for_error(response)
    error = raised.value
    assert error.code == "some_code"
    assert error.message == "what to do"
    assert error.status == status
    assert error.retry_after == 4.0


def test_an_error_answer_that_is_not_json_still_raises_with_its_text() -> None:
    with pytest.raises(ServerError) as raised:
        raise_for_error(httpx.Response(502, text="<html>bad gateway</html>"))
    assert raised.value.code == "http_error"
    assert "bad gateway" in raised.value.message
