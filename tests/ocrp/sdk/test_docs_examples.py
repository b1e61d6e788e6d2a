"""docs/sdk.md's examples, run in order against a running platform, as a reader would paste them."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.fixtures.stack import REPO, Stack

pytestmark = pytest.mark.slow


def examples(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.DOTALL)


def test_every_python_example_of_the_sdk_page_runs(
    embedded_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded_stack.start_worker("--beat", batch_expand_interval_s=0.3)
    _, url = embedded_stack.start_api_server()
    monkeypatch.setenv("OCR_API_URL", url)
    monkeypatch.setenv("OCR_API_KEY", embedded_stack.api_key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "book-4p.pdf").write_bytes((REPO / "samples" / "book-4p.pdf").read_bytes())
    blocks = examples((REPO / "docs" / "sdk.md").read_text())
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "docs_sdk"}
    printed = io.StringIO()
    for number, block in enumerate(blocks, 1):
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(block, f"docs/sdk.md example {number}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"example {number} failed:\n{block}") from exc
    out = printed.getvalue()
    assert "task_not_found" in out
    assert "422 invalid_page_range" in out
    assert "scans/book.pdf succeeded" in out
    assert (tmp_path / "out").is_dir()
