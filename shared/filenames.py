"""Client-supplied filenames, made harmless.

A name is only ever recorded and echoed back (storage keys never contain it: see
`shared.storage.keys`). `safe_filename` keeps letters of every script but drops paths, control
and format characters (bidi overrides included), quotes and separators; `content_disposition`
writes the header per RFC 6266: an ASCII `filename` for old clients and, when the name is not
plain ASCII, the exact name as RFC 5987 `filename*`.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

# \w is Unicode-aware: letters and digits of any script, and the underscore
_UNSAFE = re.compile(r"[^\w.()+\- ]+")
_NOT_ASCII = re.compile(r"[^A-Za-z0-9._()+\- ]+")
MAX_LENGTH = 200


def safe_filename(name: str | None, fallback: str = "document") -> str:
    """A filename fit for records and Content-Disposition: no path, no control characters."""
    if not name:
        return fallback
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = _UNSAFE.sub("_", base).strip(" ._")
    return base[:MAX_LENGTH] or fallback


def filename_of_uri(uri: str) -> str | None:
    """The name a URL or s3:// URI gives its document: the last segment of its path
    (`https://h/papers/a%20b.pdf?x=1` → `a b.pdf`), made safe; None when the path has none."""
    segment = unquote(urlsplit(uri).path).rstrip("/").rsplit("/", 1)[-1]
    return safe_filename(segment, fallback="") or None


def _ascii(text: str) -> str:
    # accents come off (é → e); other non-ASCII characters become one underscore per run
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ASCII.sub("_", kept).strip(" ._")


def ascii_filename(name: str, fallback: str = "document") -> str:
    """The plain-ASCII stand-in for clients that ignore `filename*`."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    plain_stem = _ascii(stem) or fallback
    plain_extension = _ascii(extension)
    return f"{plain_stem}.{plain_extension}" if plain_extension else plain_stem


def content_disposition(name: str, inline: bool = False) -> str:
    safe = safe_filename(name)
    plain = ascii_filename(safe)
    value = f'{"inline" if inline else "attachment"}; filename="{plain}"'
    if plain != safe:
        value += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return value
