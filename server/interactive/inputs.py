"""Documents sent inline: base64 (`image_base64`) or a `data:` URL, decoded with a size cap and
staged on disk like an upload, so that they are inspected and stored by the same code.

Inline documents arrive inside a JSON body, which is held in memory: their cap
(`OCR_INTERACTIVE_MAX_INLINE_BYTES`) is much smaller than the upload limit. Bigger documents go
as multipart uploads or URLs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from server.tasks.uploads import StagedFile
from shared.documents.inspect import Limits, inspect_document
from shared.errors import InvalidRequest, PayloadTooLarge, Unprocessable

_WHITESPACE = re.compile(rb"\s+")
_DATA_URL = re.compile(r"data:(?P<type>[^,;]*)(?P<params>(?:;[^,;]*)*),", re.IGNORECASE)
# JSON framing, field names and options around the encoded document
JSON_OVERHEAD_BYTES = 64 * 1024


def inline_body_limit(max_inline_bytes: int) -> int:
    """The largest JSON body that can carry a document of `max_inline_bytes` as base64."""
    return (max_inline_bytes + 2) // 3 * 4 + JSON_OVERHEAD_BYTES


async def read_json_body(request: Request, max_bytes: int) -> Any:
    """The request's JSON, refused (413) as soon as it grows past `max_bytes`."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"the JSON body is larger than {max_bytes:,} bytes; send large documents as a "
                "multipart upload or by URL"
            )
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the request body is not valid JSON", "malformed_json") from None
    except RecursionError:  # `[[[[...` thousands deep: the parser's stack ran out
        raise Unprocessable(
            "the JSON body is nested too deeply; no request of this API nests more than a few levels",
            "json_too_deep",
        ) from None


def decode_base64(text: str, max_bytes: int, field: str) -> bytes:
    encoded = _WHITESPACE.sub(b"", text.encode("ascii", errors="replace"))
    if len(encoded) // 4 * 3 > max_bytes + 2:
        raise PayloadTooLarge(
            f"the inline document is larger than {max_bytes:,} bytes; upload it or give its URL"
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{field} is not valid base64", "invalid_base64") from None
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the inline document is larger than {max_bytes:,} bytes; upload it or give its URL"
        )
    if not data:
        raise InvalidRequest(f"{field} is empty", "empty_file")
    return data


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def decode_data_url(url: str, max_bytes: int, field: str) -> bytes:
    """The bytes of a base64 `data:` URL; its declared media type is ignored (the content is
    sniffed, as for uploads)."""
    match = _DATA_URL.match(url)
    if match is None or "base64" not in match.group("params").lower().split(";"):
        raise InvalidRequest(
            f"{field} must be a base64 data URL (data:<type>;base64,<data>) or an http(s) URL",
            "invalid_image_url",
        )
    return decode_base64(url[match.end() :], max_bytes, field)


def _write(data: bytes, path: str, limits: Limits) -> StagedFile:
    with open(path, "wb") as out:
        out.write(data)
    info = inspect_document(path, limits)
    return StagedFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), info=info)


async def stage_bytes(data: bytes, path: str, limits: Limits) -> StagedFile:
    return await run_in_threadpool(_write, data, path, limits)
