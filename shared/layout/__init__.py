from shared.layout.schema import (
    LAYOUT_VERSION,
    Block,
    BlockType,
    LayoutDocument,
    LayoutPage,
    PageError,
    PageTimings,
    SourceInfo,
)

__all__ = [
    "LAYOUT_VERSION",
    "Block",
    "BlockType",
    "LayoutDocument",
    "LayoutPage",
    "PageError",
    "PageTimings",
    "SourceInfo",
]
