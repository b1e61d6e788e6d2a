"""Every error the API returns has one shape: `{"error": {"code": ..., "message": ...}}`.

`shared.errors.OcrpError` carries the status and the public code; this module renders it and
maps FastAPI's and Starlette's own errors into the same shape. Internal exception text never
reaches the client: a 500 says where to look (the request id), not what broke.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.error_codes import ErrorCode
from shared.errors import AuthError, OcrpError
from shared.logs import get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    # a known code, or a newer one: a generated client must still read codes added later
    code: ErrorCode | str = Field(description="Stable and machine-readable; see docs/api.md.")
    message: str = Field(description="What went wrong and what to do, for a person.")


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`, `path`, then the field.")
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorBody
    details: list[ValidationIssue] | None = Field(
        None, description="With `validation_error`: every field that failed."
    )


class TaskTimeoutResponse(ErrorResponse):
    """504 `ocr_timeout` of the synchronous routes: the task goes on, under this id."""

    task_id: str


def error_json(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def _describe_validation(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


# the database went away (restart, failover, network): the request can be retried shortly
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeoutError)
DATABASE_RETRY_AFTER_S = 5


def error_response(exc: Exception) -> JSONResponse | None:
    """The response for an error we know how to explain, or None."""
    if isinstance(exc, OcrpError):
        headers: dict[str, str] = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = exc.challenge
        return error_json(exc.status, exc.code, exc.message, headers or None)
    if isinstance(exc, DATABASE_ERRORS):
        log.warning("http.database_unavailable", error=str(exc).splitlines()[0][:200])
        return error_json(
            503,
            "database_unavailable",
            "the database is unreachable; retry shortly",
            {"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )
    return None


async def _known_error(request: Request, exc: Exception) -> JSONResponse:
    response = error_response(exc)
    assert response is not None
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_json(400, "malformed_json", "the request body is not valid JSON")
    # an OcrpError raised inside a pydantic validator arrives wrapped in the context
    for err in errors:
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, OcrpError):
            return error_json(inner.status, inner.code, inner.message)
    safe = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": str(e.get("type"))} for e in errors
    ]
    return error_json(422, "validation_error", _describe_validation(errors), details=safe)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return error_json(exc.status_code, code, message, dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.exception("http.unhandled", path=request.url.path, incident=incident)
    return error_json(500, "internal_error", f"internal error; report incident {incident} to the operators")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OcrpError, _known_error)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _known_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses a route can give."""
    return {
        status: {"model": ErrorResponse, "description": _HTTP_CODES.get(status, "error")}
        for status in statuses
    }
