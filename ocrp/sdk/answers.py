"""Reading an answer: the API's error shape turned into the SDK's typed errors. Pure."""

from __future__ import annotations

import httpx

from ocrp.sdk.errors import ApiError, error_class
from ocrp.sdk.retries import parse_retry_after


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    body = None
    code, message = "http_error", response.text[:300] or response.reason_phrase
    try:
        body = response.json()
        error = body["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        pass
    cls: type[ApiError] = error_class(response.status_code)
    raise cls(response.status_code, code, message, retry_after=retry_after, body=body)
