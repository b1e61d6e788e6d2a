"""Assemble a finished task's results from its page checkpoints: full.md and layout.json."""

from __future__ import annotations

from typing import Any

from shared.layout import LayoutDocument, SourceInfo
from shared.storage import Storage
from shared.storage.keys import images_prefix, layout_key, markdown_key
from worker.layout.markdown import document_markdown, page_markdown
from worker.layout.running_heads import mark_repeated_furniture
from worker.pipeline.pages import load_checkpoint
from worker.pipeline.store import TaskSnapshot


def assemble_results(
    storage: Storage,
    snapshot: TaskSnapshot,
    numbers: list[int],
    *,
    engine: str,
    model: str | None,
    content_type: str,
    page_count: int,
) -> dict[str, Any]:
    pages = []
    markdown = []
    for number in numbers:
        page, page_md = load_checkpoint(storage, snapshot.id, number)
        # each page carries its own markdown too, for consumers that chunk by page
        pages.append(page.model_copy(update={"markdown": page_md}) if page.status == "succeeded" else page)
        markdown.append((number, page_md))
    # running heads show only across pages; the pages they change get their markdown again
    changed = mark_repeated_furniture(pages)
    markdown = [
        (n, page_markdown(p) if n in changed else md) for p, (n, md) in zip(pages, markdown, strict=True)
    ]
    document = LayoutDocument(
        task_id=snapshot.id,
        engine=engine,
        model=model,
        options=snapshot.options,
        source=SourceInfo(
            filename=snapshot.filename,
            content_type=content_type,
            sha256=snapshot.sha256,
            page_count=page_count,
        ),
        pages=pages,
    )
    storage.put_bytes(
        layout_key(snapshot.id), document.model_dump_json(indent=1).encode(), "application/json"
    )
    storage.put_bytes(
        markdown_key(snapshot.id), document_markdown(markdown).encode(), "text/markdown; charset=utf-8"
    )
    prefix = images_prefix(snapshot.id)
    images = [key[len(prefix) :] for key in storage.list_keys(prefix)]
    return {"markdown": markdown_key(snapshot.id), "layout": layout_key(snapshot.id), "images": images}
