"""A PDF's page tree, walked before any page is read: a `/Kids` array that points back to an
ancestor (a cycle) makes MuPDF fail on some pages only, or count a billion pages from a lying
`/Count`. The walk is a pure function of a `kids_of(node)` lookup, bounded in nodes visited.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pymupdf

_REFERENCE = re.compile(r"(\d+)\s+\d+\s+R")


class PageTreeDamaged(ValueError):
    """The page tree cannot be a tree: a node is reachable twice, or it is too big to walk."""


def check_tree(root: int, kids_of: Callable[[int], list[int]], max_nodes: int) -> int:
    """Walk the tree from `root`; returns the number of leaves (pages). Raises PageTreeDamaged
    when a node is reached twice (a cycle, or a page shared by two parents) or after
    `max_nodes` nodes."""
    seen = {root}
    stack = [root]
    leaves = 0
    while stack:
        kids = kids_of(stack.pop())
        if not kids:
            leaves += 1
            continue
        for kid in kids:
            if kid in seen:
                raise PageTreeDamaged(f"object {kid} appears twice in the page tree (a cycle)")
            seen.add(kid)
            if len(seen) > max_nodes:
                raise PageTreeDamaged(f"the page tree has more than {max_nodes:,} nodes")
            stack.append(kid)
    return leaves


def references(value: str) -> list[int]:
    """The object numbers of the `n 0 R` references in a PDF array's source text."""
    return [int(number) for number in _REFERENCE.findall(value)]


def check_document_tree(doc: pymupdf.Document, max_nodes: int) -> int:
    """`check_tree` on an open MuPDF document; the number of pages found."""
    # PyMuPDF's low-level object API is untyped
    catalog: int = doc.pdf_catalog()  # type: ignore[no-untyped-call]
    kind, value = doc.xref_get_key(catalog, "Pages")  # type: ignore[no-untyped-call]
    if kind != "xref":
        raise PageTreeDamaged("the document catalog names no page tree")

    def kids_of(node: int) -> list[int]:
        kind, value = doc.xref_get_key(node, "Kids")  # type: ignore[no-untyped-call]
        return references(value) if kind == "array" else []

    roots = references(value)
    if not roots:
        raise PageTreeDamaged("the document catalog names no page tree")
    return check_tree(roots[0], kids_of, max_nodes)
