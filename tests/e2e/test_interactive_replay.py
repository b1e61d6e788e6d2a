"""DeepSeek-shaped output streamed live: a real worker with the replay engine (recorded
DeepSeek-OCR outputs, grounding markup and all) behind the streaming routes. Watchers get the
readable text, never a `<|ref|>` or a box; the GPU engine's token deltas go through the same
filter and are checked on a GPU by the GPU engine's tests."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import httpx
import openai
import pytest

from tests.documents import text_pdf
from tests.fixtures.sse import events_of
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow

RAW = Path(__file__).parents[1] / "data" / "deepseek"


def test_replayed_deepseek_output_streams_without_its_markup(embedded_stack: Stack, tmp_path: Path) -> None:
    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(RAW / "paper.txt", replay / "page.txt")
    embedded_stack.start_worker(engine="replay", replay_dir=replay)
    _, base = embedded_stack.start_api_server()

    with httpx.stream(
        "POST",
        f"{base}/v1/ocr",
        files={"file": ("p.pdf", text_pdf(["one", "two"]))},
        data={"stream": "true"},
        timeout=120,
    ) as response:
        events = events_of(response)
    deltas = {event.json()["page"]: event.json()["text"] for event in events if event.event == "delta"}
    assert set(deltas) == {1, 2}
    for text in deltas.values():
        assert text.startswith("# Sparse Attention for Long Documents\n\nAda Lovelace, Alan Turing")
        assert "<|" not in text
        assert "[[" not in text
        assert "\uff5c" not in text
    result = events[-2].json()
    assert result["layout"]["engine"] == "replay"

    client = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=120)
    document = "data:application/pdf;base64," + base64.b64encode(text_pdf(["one"])).decode()
    chunks = list(
        client.chat.completions.create(
            model="replay",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": document}}]}],
            stream=True,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed.startswith("<!-- page 1 -->\n\n# Sparse Attention for Long Documents")
    assert "<|" not in streamed
