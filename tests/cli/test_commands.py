"""The `ocrp` command line, run as a user would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.layout import LayoutDocument
from tests.fixtures.services import free_port
from tests.fixtures.stack import REPO, Stack

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data"


def ocrp(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrp.main", *args],
        env=env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_with_demo_takes_a_pdf_end_to_end_over_http(tmp_path: Path) -> None:
    """What `make run` does on a fresh machine: the embedded platform, a sample PDF through the API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env["OCR_DATA_DIR"] = str(tmp_path / "var")
    result = ocrp(
        "run",
        "--port",
        str(free_port()),
        "--demo",
        str(DATA / "book-4p.pdf"),
        "--exit-after-demo",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    paths = dict(re.findall(r"^(full\.md|layout\.json|images)\s+(\S+)", result.stdout, re.MULTILINE))
    assert set(paths) == {"full.md", "layout.json", "images"}
    assert "Copyright" in Path(paths["full.md"]).read_text() or len(Path(paths["full.md"]).read_text()) > 2000
    layout = LayoutDocument.model_validate_json(Path(paths["layout.json"]).read_text())
    assert len(layout.pages) == 4
    assert list(Path(paths["images"]).glob("*.jpg")), "the figure on page 4 is cropped"
    assert "pages" in result.stderr  # the progress bar


def test_submit_wait_status_and_fetch(embedded_stack: Stack, tmp_path: Path) -> None:
    embedded_stack.start_worker()
    _, url = embedded_stack.start_api_server()
    env = {**embedded_stack.env, "OCR_API_URL": url}

    submitted = ocrp(
        "submit",
        str(DATA / "olmo-page-1.pdf"),
        str(DATA / "book-4p.pdf"),
        "--pages",
        "1",
        "--wait",
        "--out",
        str(tmp_path / "out"),
        env=env,
    )
    assert submitted.returncode == 0, submitted.stderr
    ids = re.findall(r"^(tsk_\w+)\s+succeeded", submitted.stdout, re.MULTILINE)
    assert len(ids) == 2
    for task_id in ids:
        assert (tmp_path / "out" / task_id / "full.md").stat().st_size > 100
        assert (tmp_path / "out" / task_id / "layout.json").exists()

    status = ocrp("status", ids[0], env=env)
    assert status.returncode == 0
    assert f"{ids[0]}  succeeded  pages 1/1" in status.stdout

    fetched = ocrp("fetch", ids[1], "--out", str(tmp_path / "again"), env=env)
    assert fetched.returncode == 0
    assert (tmp_path / "again" / "full.md").read_text() == (tmp_path / "out" / ids[1] / "full.md").read_text()


def test_client_errors_are_reported_with_their_code(embedded_stack: Stack, tmp_path: Path) -> None:
    _, url = embedded_stack.start_api_server()
    env = {**embedded_stack.env, "OCR_API_URL": url}
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    result = ocrp("submit", str(empty), env=env)
    assert result.returncode == 1
    assert "empty_file" in result.stderr
    missing = ocrp("status", "tsk_01jd3k9zzzzzzzzzzzzzzzzzzz", env=env)
    assert missing.returncode == 1
    assert "task_not_found" in missing.stderr
