"""The README's Python examples run as written, against a running platform (uvicorn and a real
worker): a snippet that cannot run is a broken promise to every reader who pastes it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest

from tests.documents import text_pdf
from tests.fixtures.stack import REPO, Stack, build_stack

pytestmark = pytest.mark.slow

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
TEXT = "Readme examples run as written"


def readme_python_blocks() -> list[str]:
    return PYTHON_BLOCK.findall((REPO / "README.md").read_text())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    stack = build_stack("readme", tmp_path_factory.mktemp("readme"))
    stack.start_worker()
    _, base = stack.start_api_server()
    yield stack, base
    stack.close()


def test_the_readme_has_python_examples() -> None:
    assert readme_python_blocks()


@pytest.mark.parametrize("index", range(len(readme_python_blocks())))
def test_a_readme_python_example_runs_as_written(live: tuple[Stack, str], tmp_path: Path, index: int) -> None:
    stack, base = live
    # the files the examples name: a page image of their own, and the repository's samples/
    with pymupdf.open(stream=text_pdf([TEXT]), filetype="pdf") as pdf:
        pdf[0].get_pixmap(dpi=150).save(tmp_path / "page.png")
    (tmp_path / "samples").symlink_to(REPO / "samples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_")}
    env.update({"OCR_API_KEY": stack.api_key, "OCR_API_URL": base})
    example = readme_python_blocks()[index]
    result = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{example}\n--- stderr ---\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), "the example printed nothing"
    if "page.png" in example:  # it read the page made above
        assert "examples run" in result.stdout.lower(), result.stdout
