"""Library error text made fit for a public error message: server paths never reach a client
(they reveal the layout of the server, temporary names, sometimes other tenants' ids). Pure."""

from __future__ import annotations

import os
import re

# an absolute path with at least one folder: /tmp/ocrp-upload-x/in.pdf, C:\\temp\\x.pdf
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/\\])(?:[A-Za-z]:)?[/\\](?:[^\s'\"/\\]+[/\\])+[^\s'\"/\\]*")
MAX_CHARS = 300


def without_paths(text: str, *known: str) -> str:
    """`text` with each of the `known` paths and any absolute path replaced by `the file`."""
    for path in sorted(filter(None, known), key=len, reverse=True):
        text = text.replace(path, "the file")
    return _ABSOLUTE_PATH.sub("the file", text)


def public_reason(exc: BaseException, path: str) -> str:
    """What a library's exception says, without server paths, short."""
    text = without_paths(str(exc), path, os.path.dirname(path)) or type(exc).__name__
    return text[:MAX_CHARS]
