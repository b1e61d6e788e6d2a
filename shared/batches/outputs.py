"""Where a source object's results go under an output prefix, as pure functions.

The path relative to the source is kept and its last extension replaced:

    s3://in/scans/a/b.pdf  (source s3://in/scans/)  →  {out}a/b.md  and  {out}a/b.layout.json
    archive member a/b.pdf                          →  {out}a/b.md  and  {out}a/b.layout.json
    https://host/x/y.pdf?v=2                        →  {out}host/x/y_<8 hex of the query>.md

Every segment is made safe for any object store: empty and `.` segments are dropped, `..`
becomes `__`, and URL segments keep only `[A-Za-z0-9._-]`.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, urlsplit

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _segments(path: str, strict: bool) -> list[str]:
    out = []
    for segment in path.split("/"):
        if strict:
            segment = _UNSAFE.sub("_", segment)
        if segment in ("", "."):
            continue
        out.append("__" if segment == ".." else segment)
    return out


def _stem(segments: list[str]) -> str:
    last = segments[-1]
    head, dot, _ = last.rpartition(".")
    if dot and head:
        segments = [*segments[:-1], head]
    return "/".join(segments)


def relative_stem(ref: str, *, kind: str, source_prefix: str = "") -> str:
    """The output path, without extension, of a source object."""
    if kind == "urls":
        parts = urlsplit(ref)
        segments = _segments(f"{parts.hostname or 'host'}/{unquote(parts.path)}", strict=True)
        stem = _stem(segments)
        if parts.query:
            stem += "_" + hashlib.sha256(parts.query.encode()).hexdigest()[:8]
        return stem
    relative = ref[len(source_prefix) :] if kind == "s3" and ref.startswith(source_prefix) else ref
    segments = _segments(relative, strict=False)
    return _stem(segments) if segments else "document"


def output_keys(prefix: str, stem: str) -> dict[str, str]:
    """Object keys (inside the output bucket) of the mirrored markdown and layout."""
    return {"markdown": f"{prefix}{stem}.md", "layout": f"{prefix}{stem}.layout.json"}
