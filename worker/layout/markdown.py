"""Markdown from layout pages, in the blocks' reading order."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.layout import Block, LayoutPage

# Text that is display math on its own; anything else (bare LaTeX, `aligned`, `cases`...) is
# wrapped in $$ so that markdown renderers show it as a formula.
_DISPLAY_MATH = re.compile(r"^\s*(\\\[|\$\$|\\begin\{(equation|align|gather|multline|eqnarray|flalign)\*?\})")


def block_markdown(block: Block) -> str:
    text = block.text.strip()
    if block.type == "image":
        reference = f"![]({block.image})" if block.image else ""
        return "\n\n".join(part for part in (reference, text) if part)
    if not text:
        return ""
    if block.type == "title":
        return f"# {text}"
    if block.type == "sub_title":
        return f"## {text}"
    if block.type == "equation" and not _DISPLAY_MATH.match(text):
        return f"$$\n{text}\n$$"
    return text


def page_markdown(page: LayoutPage) -> str:
    parts = (block_markdown(block) for block in page.blocks)
    return "\n\n".join(part for part in parts if part)


def page_marker(number: int) -> str:
    """An HTML comment between pages: invisible when rendered, easy to split on."""
    return f"<!-- page {number} -->"


def document_markdown(pages: Iterable[tuple[int, str]]) -> str:
    """Join page markdown with page markers; `pages` yields (number, markdown) in order."""
    chunks = [f"{page_marker(number)}\n\n{markdown}".rstrip() for number, markdown in pages]
    return "\n\n".join(chunks) + "\n"
