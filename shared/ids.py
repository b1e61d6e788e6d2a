"""Time-sortable identifiers: a 48-bit millisecond clock and 80 random bits in Crockford base32.

Sorting ids sorts by creation time, which keeps cursor pagination a plain `id < cursor`.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rest = divmod(value, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """`prefix_` followed by 26 characters, e.g. `tsk_01jd3k9...`."""
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_encode(value, 26)}"


def is_valid_id(value: str, prefix: str) -> bool:
    head, _, body = value.partition("_")
    return head == prefix and len(body) == 26 and all(c in _ALPHABET for c in body)
