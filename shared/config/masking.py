"""Settings as `ocrp config show` prints them: secrets replaced by `***`, and the password of
every URL that carries credentials (`postgresql://user:pw@host`, `redis://:pw@host`) masked
wherever it appears in a value, so that a pasted config never leaks a credential. Pure."""

from __future__ import annotations

import re

MASK = "***"
_SECRET_NAMES = ("secret", "password", "key", "token")
# scheme://user:password@ -- the password ends at the last `@` before the host
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s,]*):(?P<password>[^\s,]*)@")


def mask_url_passwords(text: str) -> str:
    """`text` with the password of each URL in it replaced by `***` (user names kept)."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", text)


def shown_value(name: str, value: object) -> object:
    """What `config show` prints for setting `name`."""
    if value and any(word in name for word in _SECRET_NAMES):
        return MASK
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value
