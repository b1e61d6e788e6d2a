"""An engine's declared `preparation` agrees with what the registry tells the worker before
the engine loads (the render processes are started from the registry's answer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Settings
from worker.engines.base import Engine, Preparation
from worker.engines.registry import load_engine, preparation_for


def settings_for(engine: str, tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, engine=engine, **values)  # type: ignore[call-arg]


def same(left: Preparation | None, right: Preparation | None) -> bool:
    if left is None or right is None:
        return left is right
    # factories are functools.partial objects: compare what they would build
    return left.processes == right.processes and repr(left.factory) == repr(right.factory)


@pytest.mark.parametrize("engine", ["tesseract", "standin"])
def test_an_engines_preparation_is_the_registrys(engine: str, tmp_path: Path) -> None:
    settings = settings_for(engine, tmp_path, deepseek_prepare_processes=2)
    loaded: Engine = load_engine(settings)
    try:
        assert same(loaded.preparation, preparation_for(settings))
        assert (loaded.preparation is None) == (engine == "tesseract")
    finally:
        loaded.close()


def test_the_replay_engine_takes_plain_images(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("<|ref|>text<|/ref|><|det|>[[0, 0, 10, 10]]<|/det|>\nhi")
    settings = settings_for("replay", tmp_path, replay_dir=tmp_path)
    loaded = load_engine(settings)
    assert loaded.preparation is None
    assert preparation_for(settings) is None
