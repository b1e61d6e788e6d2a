"""Client metadata of a task: a small flat JSON object the client attaches at submission (an
order number, a customer id) and gets back unchanged in the task resource, in lists and in the
task's webhook events, like Textract's JobTag. The API only stores it.

Flat and small on purpose: it travels in every poll and every webhook, and a nested value
would make it a document store. At most 32 keys of 64 characters, values a string (of 512
characters at most), a number, a boolean or null, and 4 KiB in all."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, TypeAdapter, ValidationError

from shared.errors import Unprocessable

MAX_KEYS = 32
MAX_KEY_CHARS = 64
MAX_STRING_CHARS = 512
MAX_BYTES = 4096

Value = Annotated[str, StringConstraints(max_length=MAX_STRING_CHARS)] | int | float | bool | None
Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_CHARS)]


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    size = len(encode(value).encode())
    if size > MAX_BYTES:
        raise ValueError(f"metadata is {size} bytes as JSON; the limit is {MAX_BYTES}")
    return value


TaskMetadata = Annotated[
    dict[Key, Value],
    Field(
        max_length=MAX_KEYS,
        description=f"Your own flat JSON object, returned unchanged in the task, lists and "
        f"webhooks: at most {MAX_KEYS} keys, string values of at most {MAX_STRING_CHARS} "
        f"characters, {MAX_BYTES} bytes in all.",
    ),
    AfterValidator(_bounded),
]
_adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(TaskMetadata)


def encode(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_form_metadata(text: str) -> dict[str, Any]:
    """The `metadata` form field of an upload: the same object, as JSON text."""
    if len(text) > 4 * MAX_BYTES:  # before parsing: escapes make JSON text longer than its value
        raise Unprocessable(f"metadata is larger than {MAX_BYTES} bytes", "invalid_metadata")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Unprocessable(
            'metadata must be a JSON object, e.g. {"order": "A-17"}', "invalid_metadata"
        ) from None
    try:
        return _adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Unprocessable(
            f"metadata{'.' + where if where else ''}: {first['msg']}", "invalid_metadata"
        ) from None
