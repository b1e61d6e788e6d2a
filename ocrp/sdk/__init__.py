"""The typed Python SDK of the ocrp API.

    from ocrp.sdk import Client
    with Client() as ocr:                       # OCR_API_URL, OCR_API_KEY
        task = ocr.submit(Path("report.pdf"), mode="base")
        done = ocr.wait(task.id)
        print(ocr.markdown(done.id))

Models are the server's own pydantic schemas; errors are typed (`ocrp.sdk.errors`) and carry
the API's stable `code`. See docs/sdk.md."""

from ocrp.sdk.aio import AsyncClient
from ocrp.sdk.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    OcrpError,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Timeout,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
    WaitTimeout,
)
from ocrp.sdk.retries import NO_RETRIES, RetryPolicy
from ocrp.sdk.sse import Event
from ocrp.sdk.sync import Client
from ocrp.sdk.waiting import ResultFiles
from server.batches.schemas import BatchResource
from server.tasks.schemas import PageResource, TaskResource

__all__ = [
    "NO_RETRIES",
    "ApiError",
    "AsyncClient",
    "BatchResource",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Event",
    "Forbidden",
    "Gone",
    "InvalidRequest",
    "NotFound",
    "OcrpError",
    "PageResource",
    "PayloadTooLarge",
    "RateLimited",
    "ResultFiles",
    "RetryPolicy",
    "ServerError",
    "TaskResource",
    "Timeout",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMedia",
    "WaitTimeout",
]
