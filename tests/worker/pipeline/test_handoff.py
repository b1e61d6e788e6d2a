"""Render replies through shared memory: large tensors and images arrive equal, their files are
gone once mapped, and without shared memory everything still travels inline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from worker.pipeline import handoff


def reply() -> dict[str, object]:
    generator = torch.Generator().manual_seed(1)
    return {
        "pixels": torch.rand((2, 3, 640, 640), generator=generator).to(torch.bfloat16),
        "small": torch.tensor([[2, 3]]),
        "image": Image.effect_noise((1240, 1754), 40).convert("RGB"),
        "ids": [128815] * 915,
    }


def test_large_buffers_travel_as_files_and_arrive_equal(tmp_path: Path) -> None:
    spool = handoff.Spool(tmp_path)
    original = reply()
    data = handoff.dumps(original, spool.folder())
    assert len(data) < 100_000  # the 5 MB of pixels and 6.5 MB of image did not go inline
    assert len(os.listdir(spool.folder() or "")) == 2
    back = handoff.loads(data)
    assert back["pixels"].dtype == torch.bfloat16
    assert torch.equal(back["pixels"], original["pixels"])  # type: ignore[arg-type]
    assert torch.equal(back["small"], original["small"])  # type: ignore[arg-type]
    assert back["image"].tobytes() == original["image"].tobytes()  # type: ignore[attr-defined]
    assert back["ids"] == original["ids"]
    assert os.listdir(spool.folder() or "") == []  # unlinked as soon as mapped
    back["pixels"][0, 0, 0, 0] = 7.0  # the copy-on-write mapping is writable
    spool.close()
    assert not tmp_path.joinpath("x").exists()
    assert list(tmp_path.iterdir()) == []


def test_without_shared_memory_everything_goes_inline() -> None:
    original = reply()
    data = handoff.dumps(original, None)
    assert len(data) > 5_000_000
    back = handoff.loads(data)
    assert torch.equal(back["pixels"], original["pixels"])  # type: ignore[arg-type]


def test_a_full_shared_memory_falls_back_to_inline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = handoff.Spool(tmp_path)
    monkeypatch.setattr(handoff, "SPARE_BYTES", 1 << 60)  # "no room left"
    data = handoff.dumps(reply(), spool.folder())
    assert len(data) > 5_000_000
    assert os.listdir(spool.folder() or "") == []
