"""The SDK against the running platform: a uvicorn API process and a real worker process on the
embedded default, over real HTTP (the event stream included)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrp.sdk import AsyncClient, Client, InvalidRequest, NotFound, Unauthorized
from ocrp.sdk.sse import Event
from tests.fixtures.documents import tiny_pdf, zip_bytes
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture
def api_url(embedded_stack: Stack) -> Iterator[str]:
    # --beat: the same worker also expands batches (the maintenance queue), quickly
    embedded_stack.start_worker("--beat", batch_expand_interval_s=0.3)
    _, url = embedded_stack.start_api_server()
    return url


def test_submit_follow_events_and_fetch_results(
    embedded_stack: Stack, api_url: str, data_dir: Path, tmp_path: Path
) -> None:
    events: list[Event] = []
    with Client(api_url, embedded_stack.api_key) as client:
        task = client.submit(data_dir / "book-4p.pdf", pages="1-2", idempotency_key="sdk-book")
        assert task.status == "queued"
        assert task.source.filename == "book-4p.pdf"
        again = client.submit(data_dir / "book-4p.pdf", pages="1-2", idempotency_key="sdk-book")
        assert again.id == task.id  # the key made the second submission a replay

        done = client.wait(task.id, timeout_s=120, on_event=events.append)
        assert done.status == "succeeded"
        assert done.progress.pages_done == 2
        kinds = [e.event for e in events]
        assert kinds[0] == "status"
        assert kinds.count("page") == 2
        assert events[-1].json()["status"] == "succeeded"

        markdown = client.markdown(task.id)
        assert "<!-- page 1 -->" in markdown
        assert "<!-- page 2 -->" in markdown
        layout = client.layout(task.id)
        assert [p["number"] for p in layout["pages"]] == [1, 2]
        files = client.download(done, tmp_path / "out")
        assert files.markdown.read_text() == markdown
        assert files.layout.exists()
        assert not list((tmp_path / "out").glob("*.part"))
        assert [p.number for p in client.pages(task.id).data] == [1, 2]


def test_errors_are_typed_with_the_public_code(embedded_stack: Stack, api_url: str) -> None:
    with Client(api_url, embedded_stack.api_key) as client:
        with pytest.raises(NotFound) as missing:
            client.task("tsk_doesnotexist")
        assert missing.value.code == "task_not_found"
        with pytest.raises(InvalidRequest) as bad_range:
            client.submit(tiny_pdf("x"), pages="9-1")
        assert bad_range.value.code == "invalid_page_range"
        assert bad_range.value.status == 422
    with Client(api_url, "ocrp_not_a_real_key") as stranger, pytest.raises(Unauthorized) as denied:
        stranger.tasks()
    assert denied.value.code == "unauthorized"


def test_the_async_client_waits_for_many_tasks_at_once(embedded_stack: Stack, api_url: str) -> None:
    async def scenario() -> list[str]:
        async with AsyncClient(api_url, embedded_stack.api_key) as client:
            submitted = await asyncio.gather(
                *(client.submit(tiny_pdf(f"async page {n}"), filename=f"n{n}.pdf") for n in range(3))
            )
            done = await asyncio.gather(
                *(client.wait(t.id, timeout_s=120, follow=n % 2 == 0) for n, t in enumerate(submitted))
            )
            assert all(t.status == "succeeded" for t in done)
            listed = [t.id async for t in client.iter_tasks(page_size=2)]
            assert {t.id for t in submitted} <= set(listed)
            return [await client.markdown(t.id) for t in done]

    texts = asyncio.run(scenario())
    assert all(f"page {n}" in text for n, text in enumerate(texts))


def test_a_batch_from_an_uploaded_archive(embedded_stack: Stack, api_url: str) -> None:
    archive = zip_bytes([("a.pdf", tiny_pdf("first file")), ("b.pdf", tiny_pdf("second file"))])
    with Client(api_url, embedded_stack.api_key) as client:
        batch = client.upload_batch(archive)
        finished = client.wait_batch(batch.id, timeout_s=120)
        assert finished.status == "completed"
        assert finished.counts.succeeded == 2
        entries = client.manifest(batch.id)
        assert sorted(e["source"] for e in entries) == ["a.pdf", "b.pdf"]
        assert [t.id for t in client.batches().data] == [batch.id]
