"""Typed errors of the SDK: one class per kind of answer, each carrying the API's stable code.

Programs branch on the class (`except NotFound`) or on `code` (`"pdf_encrypted"`); people read
`message`. `retry_after` is the server's `Retry-After` in seconds where it sent one."""

from __future__ import annotations

from typing import Any


class OcrpError(Exception):
    """Everything the SDK raises."""


class ConnectionFailed(OcrpError):
    """The API could not be reached (refused, reset, timed out) after the retries."""


class WaitTimeout(OcrpError, TimeoutError):
    """`wait` gave up before the task reached a terminal state."""

    def __init__(self, task_id: str, status: str, seconds: float) -> None:
        super().__init__(f"task {task_id} is still {status} after {seconds:.0f} s")
        self.task_id, self.status = task_id, status


class ApiError(OcrpError):
    """An error answer of the API: `{"error": {"code", "message"}}` and its HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.retry_after, self.body = retry_after, body


class InvalidRequest(ApiError):
    """400 or 422: the request itself is wrong; sending it again will not help."""


class Unauthorized(ApiError):
    """401: no key, or an unknown or revoked one."""


class Forbidden(ApiError):
    """403: the key lacks the route's scope."""


class NotFound(ApiError):
    """404: no such task, batch, image or delivery (another owner's look the same)."""


class Conflict(ApiError):
    """409: the resource is not in a state that allows this (result not ready, task running...)."""


class Gone(ApiError):
    """410: deleted under the retention policy."""


class PayloadTooLarge(ApiError):
    """413: the upload passes the server's size limit."""


class UnsupportedMedia(ApiError):
    """415: not a PDF or an image the platform reads."""


class RateLimited(ApiError):
    """429: the key's rate limit or the owner's quota; `retry_after` says when to come back."""


class ServerError(ApiError):
    """500 and other 5xx answers not listed below."""


class Unavailable(ApiError):
    """503: a dependency (database, storage, broker) is down; transient."""


class Timeout(ApiError):
    """504: the synchronous routes gave up waiting; the task goes on (see `body["task_id"]`)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    415: UnsupportedMedia,
    422: InvalidRequest,
    429: RateLimited,
    503: Unavailable,
    504: Timeout,
}


def error_class(status: int) -> type[ApiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError
