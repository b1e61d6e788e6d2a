"""Where the API is and which key to send: arguments first, then OCR_API_URL / OCR_API_KEY,
then the key `ocrp run` saved for clients on the same machine."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_API = "http://127.0.0.1:8000"
USER_AGENT = "ocrp-sdk"


def base_url(given: str | None) -> str:
    return (given or os.environ.get("OCR_API_URL") or DEFAULT_API).rstrip("/")


def api_key(given: str | None) -> str | None:
    if given:
        return given
    if key := os.environ.get("OCR_API_KEY"):
        return key
    from ocrp.local_key import read_local_key

    return read_local_key(Path(os.environ.get("OCR_DATA_DIR", "var")))


def headers(key: str | None) -> dict[str, str]:
    values = {"User-Agent": USER_AGENT}
    if key:
        values["Authorization"] = f"Bearer {key}"
    return values
