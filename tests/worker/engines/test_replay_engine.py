"""The replay engine plays recorded DeepSeek-OCR outputs back through the grounding parser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from shared.config import EngineName, Settings
from shared.errors import OcrpError
from shared.options import TaskOptions
from worker.engines.base import EngineCanceled, PageRequest
from worker.engines.registry import load_engine
from worker.engines.replay import ReplayEngine, replay_problem

RAW = Path(__file__).parents[2] / "data" / "deepseek"


def request(page: int, on_delta: list[str] | None = None) -> PageRequest:
    return PageRequest(
        task_id="tsk_replay",
        page=page,
        image=Image.new("RGB", (1000, 1400), "white"),
        dpi=144,
        options=TaskOptions(),
        on_delta=on_delta.append if on_delta is not None else None,
    )


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    shutil.copy(RAW / "paper.txt", tmp_path / "page-1.txt")
    shutil.copy(RAW / "truncated.txt", tmp_path / "page-2.txt")
    return tmp_path


def test_a_page_replays_its_own_recording(recordings: Path) -> None:
    deltas: list[str] = []
    page = ReplayEngine(recordings).recognize(request(1, deltas))
    assert page.blocks[0].type == "title"
    assert page.blocks[0].bbox == (118, 86, 881, 141)  # [[118, 62, 881, 101]] on 1000x1400
    assert page.truncated is False
    assert page.raw_text == (recordings / "page-1.txt").read_text(encoding="utf-8")
    assert deltas == [page.raw_text]


def test_a_recording_without_the_end_token_replays_truncated(recordings: Path) -> None:
    page = ReplayEngine(recordings).recognize(request(2))
    assert page.truncated is True
    assert [b.type for b in page.blocks] == ["title", "table"]


def test_a_page_without_a_recording_fails_with_a_public_code(recordings: Path) -> None:
    with pytest.raises(OcrpError) as caught:
        ReplayEngine(recordings).recognize(request(3))
    assert caught.value.code == "replay_missing"
    assert not caught.value.retryable
    assert "page-3.txt" in caught.value.message


def test_page_txt_serves_every_page_without_its_own(recordings: Path) -> None:
    shutil.copy(RAW / "free-ocr.txt", recordings / "page.txt")
    engine = ReplayEngine(recordings)
    assert engine.recognize(request(7)).blocks[0].text == "# Meeting Notes"
    assert engine.recognize(request(1)).blocks[0].type == "title"


def test_a_canceled_request_is_not_replayed(recordings: Path) -> None:
    canceled = request(1)
    canceled.cancel.set()
    with pytest.raises(EngineCanceled):
        ReplayEngine(recordings).recognize(canceled)


def test_the_registry_loads_the_replay_engine(recordings: Path, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, engine="replay", replay_dir=recordings)  # type: ignore[call-arg]
    assert settings.engine == EngineName.replay
    engine = load_engine(settings)
    assert engine.info.name == "replay"
    assert "replay" in (engine.info.model or "")


def test_a_replay_worker_without_recordings_says_why(tmp_path: Path) -> None:
    assert "OCR_REPLAY_DIR is not set" in (replay_problem(None) or "")
    assert "is not a folder" in (replay_problem(tmp_path / "missing") or "")
    assert "no page-{n}.txt" in (replay_problem(tmp_path) or "")
    settings = Settings(_env_file=None, data_dir=tmp_path, engine="replay", replay_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="holds no page"):
        load_engine(settings)
