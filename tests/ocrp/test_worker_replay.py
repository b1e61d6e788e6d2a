"""`ocrp worker --engine replay` refuses to start without recordings, saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def start_worker(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    clean.update(OCR_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "ocrp.main", "worker", "--engine", "replay"],
        env=clean,
        cwd=tmp_path,  # no .env from the checkout
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("replay_dir", "message"),
    [
        (None, "OCR_REPLAY_DIR is not set"),
        ("missing", "is not a folder"),
        ("empty", "holds no page-{n}.txt or page.txt recording"),
    ],
)
def test_a_replay_worker_without_recordings_does_not_start(
    tmp_path: Path, replay_dir: str | None, message: str
) -> None:
    env = {"PYTHONPATH": str(REPO)}
    if replay_dir is not None:
        (tmp_path / "empty").mkdir()
        env["OCR_REPLAY_DIR"] = str(tmp_path / replay_dir)
    result = start_worker(tmp_path, **env)
    assert result.returncode == 1
    assert message in result.stderr
