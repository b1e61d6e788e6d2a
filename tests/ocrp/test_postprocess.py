"""`ocrp postprocess RAW --image PAGE --out DIR` through the CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from ocrp.main import cli
from shared.layout import LayoutDocument
from shared.layout.schema import json_schema

RAW = Path(__file__).parents[1] / "data" / "deepseek"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The command configures logging for a terminal; give pytest its handlers back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def page_png(tmp_path: Path) -> Path:
    path = tmp_path / "page.png"
    Image.new("RGB", (1224, 1584), "white").save(path)
    return path


def postprocess(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["postprocess", *map(str, args)])


def load_layout(out: Path) -> LayoutDocument:
    data = json.loads((out / "layout.json").read_text())
    jsonschema.validate(data, json_schema())
    return LayoutDocument.model_validate(data)


def test_a_page_becomes_markdown_layout_and_crops(page_png: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = postprocess(RAW / "paper.txt", "--image", page_png, "--out", out)
    assert result.exit_code == 0, result.output
    assert "12 blocks, 1 figures" in result.output
    markdown = (out / "page.md").read_text()
    assert markdown.startswith("# Sparse Attention for Long Documents\n")
    assert "![](images/1_1.jpg)" in markdown
    layout = load_layout(out)
    assert len(layout.pages) == 1
    page = layout.pages[0]
    assert (page.width, page.height, page.dpi) == (1224, 1584, None)
    assert layout.source.content_type == "image/png"
    figure = next(b for b in page.blocks if b.type == "image")
    assert figure.bbox is not None
    x1, y1, x2, y2 = figure.bbox
    with Image.open(out / "images" / "1_1.jpg") as crop:
        assert crop.size == (x2 - x1, y2 - y1)


def test_a_pdf_page_is_rendered_like_the_worker_renders_it(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pdf = data_dir / "olmo-page-1.pdf"
    result = postprocess(RAW / "multi-box.txt", "--image", pdf, "--page", "1", "--dpi", "72", "--out", out)
    assert result.exit_code == 0, result.output
    page = load_layout(out).pages[0]
    assert (page.width, page.height, page.dpi) == (595, 842, 72)
    assert sorted(p.name for p in (out / "images").iterdir()) == ["1_1.jpg", "1_2.jpg"]


def test_the_end_token_decides_truncation_unless_told(page_png: Path, tmp_path: Path) -> None:
    result = postprocess(RAW / "truncated.txt", "--image", page_png, "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "truncated" in result.output
    assert load_layout(tmp_path / "a").pages[0].truncated is True
    result = postprocess(RAW / "paper.txt", "--image", page_png, "--out", tmp_path / "b", "--no-eos")
    assert load_layout(tmp_path / "b").pages[0].truncated is True


def test_garbage_still_gives_a_valid_page_and_reports_the_repairs(page_png: Path, tmp_path: Path) -> None:
    result = postprocess(RAW / "garbage.txt", "--image", page_png, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "layout.grounding.repaired" in result.stderr
    assert load_layout(tmp_path / "out").pages[0].truncated is True


def test_a_page_past_the_end_is_refused(data_dir: Path, tmp_path: Path) -> None:
    pdf = data_dir / "olmo-page-1.pdf"
    result = postprocess(RAW / "paper.txt", "--image", pdf, "--page", "2", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "olmo-page-1.pdf has 1 page(s)" in result.output
    assert not (tmp_path / "out").exists()


def test_an_image_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "page.png"
    fake.write_text("not a picture")
    result = postprocess(RAW / "paper.txt", "--image", fake, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "unsupported_media_type" in result.output
