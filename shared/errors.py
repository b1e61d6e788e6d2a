"""The one error base of the platform. Each error carries a stable public `code`, a message a
person can act on, and the HTTP status the API answers with. The worker stores the same code on
a failed task or page, so a client sees one vocabulary whichever side found the problem.

    OcrpError                    500 internal_error
    ├── InvalidRequest           400 invalid_request, empty_file, invalid_url, ...
    ├── AuthError                401 unauthorized
    ├── Forbidden                403 forbidden
    ├── NotFound                 404 not_found
    │   └── ObjectNotFound       404 object_missing  (storage: the key does not exist; never retried)
    ├── Conflict                 409 task_not_finished, task_finished, ...
    ├── Gone                     410 result_expired, input_expired
    ├── PayloadTooLarge          413 payload_too_large
    ├── UnsupportedMediaType     415 unsupported_media_type
    ├── Unprocessable            422 validation_error, idempotency_key_reused, ...
    │   └── DocumentError        422 pdf_encrypted, pdf_corrupt, too_many_pages, ...
    ├── RateLimited              429 rate_limited, quota_exceeded  (with Retry-After)
    └── Unavailable              503 service_unavailable, database_unavailable (with Retry-After)
        └── TransientError       503 fetch_failed, fetch_timeout ... (workers retry these)
            └── StorageUnavailable  503 storage_unavailable (with Retry-After)

    StorageError (a base of ObjectNotFound and StorageUnavailable): any storage failure, for
    code that only cleans up and need not tell them apart.

The storage backends (shared/storage/local.py, s3.py) raise only the two storage errors, so a
storage failure needs no translation anywhere else: the API's one handler answers 404 or 503,
and the worker retries the transient one and fails the task at once on the permanent one.
"""

from __future__ import annotations


class OcrpError(Exception):
    status: int = 500
    default_code: str = "internal_error"
    retryable: bool = False

    def __init__(self, message: str, code: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequest(OcrpError):
    status = 400
    default_code = "invalid_request"


class AuthError(OcrpError):
    status = 401
    default_code = "unauthorized"
    # the WWW-Authenticate challenge of the answer; pages for browsers ask for HTTP Basic
    challenge = 'Bearer realm="ocrp"'


class Forbidden(OcrpError):
    status = 403
    default_code = "forbidden"


class NotFound(OcrpError):
    status = 404
    default_code = "not_found"


class Conflict(OcrpError):
    status = 409
    default_code = "conflict"


class Gone(OcrpError):
    """The thing existed but was deleted on purpose (retention)."""

    status = 410
    default_code = "gone"


class PayloadTooLarge(OcrpError):
    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(OcrpError):
    status = 415
    default_code = "unsupported_media_type"


class Unprocessable(OcrpError):
    status = 422
    default_code = "validation_error"


class DocumentError(Unprocessable):
    """The document itself is unusable; retrying cannot help."""

    default_code = "document_invalid"


class RateLimited(OcrpError):
    status = 429
    default_code = "rate_limited"


class Unavailable(OcrpError):
    status = 503
    default_code = "service_unavailable"
    retryable = True


class TransientError(Unavailable):
    """A dependency hiccup (storage, network, broker): the same work may succeed when retried."""

    default_code = "transient_error"


class StorageError(OcrpError):
    """Any failure of object storage; each subclass takes its status from its other base."""


class ObjectNotFound(StorageError, NotFound):
    """A key that does not exist: retrying cannot bring it back."""

    default_code = "object_missing"

    def __init__(self, key: str) -> None:
        super().__init__(f"the stored object {key!r} is missing")
        self.key = key


class StorageUnavailable(StorageError, TransientError):
    """Storage did not answer or failed: the same operation may succeed shortly. The backend's
    own text (endpoints, paths) stays in `detail`, for the logs, never in the public message."""

    default_code = "storage_unavailable"
    RETRY_AFTER_S = 5

    def __init__(self, detail: str = "") -> None:
        super().__init__("storage is unavailable; retry shortly", retry_after=self.RETRY_AFTER_S)
        self.detail = detail
