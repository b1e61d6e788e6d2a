"""`ocrp postprocess`: one page's recorded DeepSeek-OCR output → that page's results.

For replaying recorded outputs and debugging the grounding parser without a GPU: the same
parser, layout builder, crops and markdown assembler as the worker, on one page.

    OUT/page.md          the page's markdown
    OUT/layout.json      a one-page layout document (shared.layout.schema)
    OUT/images/{p}_{n}.jpg  the cropped figures
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from PIL import Image

from shared.layout import LayoutDocument, PageTimings, SourceInfo


@dataclass
class PageImage:
    image: Image.Image
    dpi: int | None
    content_type: str


def load_page_image(path: Path, page: int, dpi: int) -> PageImage:
    """The page image the model saw: an image file as the worker opens it, or a PDF page
    rendered the way the worker renders it."""
    from shared.config import get_settings
    from shared.documents.inspect import inspect_document
    from shared.errors import OcrpError
    from worker.pipeline.render import release_document, render_page
    from worker.pipeline.source import limits_of

    limits = limits_of(get_settings())
    try:
        info = inspect_document(str(path), limits)
        if page > info.page_count:
            raise click.BadParameter(f"{path.name} has {info.page_count} page(s)", param_hint="--page")
        rendered = render_page(str(path), info.type.is_pdf, page, dpi, limits)
    except OcrpError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    finally:
        release_document(str(path))
    return PageImage(rendered.image, rendered.dpi, info.type.content_type)


@click.command()
@click.argument("raw", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--image",
    "image_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The page image the output belongs to (PNG, JPEG, TIFF, WebP), or a PDF with --page.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page number.")
@click.option("--dpi", type=click.IntRange(min=36, max=600), default=144, show_default=True, help="PDF only.")
@click.option(
    "--eos/--no-eos",
    default=None,
    help="Whether the model finished; by default, whether RAW holds its end-of-sentence token.",
)
def postprocess(raw: Path, image_path: Path, out: Path, page: int, dpi: int, eos: bool | None) -> None:
    """Turn RAW, one page's raw DeepSeek-OCR output, into page.md, layout.json and crops in OUT."""
    from shared.logs import configure_logging
    from worker.layout.blocks import build_page
    from worker.layout.crops import crop_jpeg
    from worker.layout.grounding import recognized_from_raw
    from worker.layout.grounding_text import has_end_of_sentence
    from worker.layout.markdown import page_markdown

    configure_logging("WARNING")  # the parser's repairs show on stderr
    raw_text = raw.read_text(encoding="utf-8", errors="replace")
    source = load_page_image(image_path, page, dpi)
    width, height = source.image.size
    finished = has_end_of_sentence(raw_text) if eos is None else eos
    recognized = recognized_from_raw(raw_text, width, height, eos=finished)
    layout_page, crops = build_page(
        number=page,
        width=width,
        height=height,
        dpi=source.dpi,
        engine="deepseek",
        recognized=recognized,
        timings=PageTimings(),
    )
    document = LayoutDocument(
        task_id=f"postprocess-{raw.stem}",
        engine="deepseek",
        source=SourceInfo(filename=image_path.name, content_type=source.content_type, page_count=1),
        pages=[layout_page],
    )
    (out / "images").mkdir(parents=True, exist_ok=True)
    for crop in crops:
        (out / "images" / crop.name).write_bytes(crop_jpeg(source.image, crop.bbox))
    (out / "page.md").write_text(page_markdown(layout_page) + "\n", encoding="utf-8")
    (out / "layout.json").write_text(document.model_dump_json(indent=1), encoding="utf-8")
    state = "truncated" if layout_page.truncated else "finished"
    click.echo(
        f"page {page} ({width}x{height}, {state}): {len(layout_page.blocks)} blocks, "
        f"{len(crops)} figures -> {out}"
    )


COMMANDS = [postprocess]
