"""Reading a `POST /v1/ocr` request: multipart (`file` plus form fields) or JSON
(`image_base64` or `url` plus the same fields), into options and a document."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from fastapi import Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile as FormFile

from server.interactive.inputs import decode_base64, inline_body_limit, read_json_body, stage_bytes
from server.interactive.schemas import OcrFields, OcrJson
from server.interactive.submit import Document
from server.tasks.uploads import safe_filename, stage_upload
from shared.config import Settings
from shared.documents.inspect import Limits
from shared.errors import InvalidRequest, UnsupportedMediaType
from shared.urls import check_url, parse_allowlist

MAX_FORM_FIELDS = 20
M = TypeVar("M", bound=BaseModel)


def limits_of(settings: Settings) -> Limits:
    return Limits(max_pages=settings.max_pages, max_image_pixels=settings.max_image_pixels)


def validated(model: type[M], data: Any) -> M:
    """Validate like a request body: failures get the API's 422 (or the code a validator
    raised), not a 500."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def read_ocr_request(
    request: Request, settings: Settings, staging_path: str
) -> tuple[OcrFields, Document]:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await _read_multipart(request, settings, staging_path)
    if content_type.startswith("application/json"):
        return await _read_json(request, settings, staging_path)
    raise UnsupportedMediaType(
        "send the document as multipart/form-data (file) or application/json (image_base64 or url)",
        "unsupported_media_type",
    )


async def _read_multipart(request: Request, settings: Settings, path: str) -> tuple[OcrFields, Document]:
    form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    try:
        upload = form.get("file")
        if not isinstance(upload, FormFile):
            raise InvalidRequest("the multipart body needs a file part named 'file'", "invalid_source")
        plain = {key: value for key, value in form.multi_items() if key != "file" and isinstance(value, str)}
        fields = validated(OcrFields, {key: value for key, value in plain.items() if value != ""})
        fields.options()  # invalid options fail before the upload is staged
        staged = await stage_upload(
            cast(UploadFile, upload), path, settings.max_upload_bytes, limits_of(settings)
        )
        return fields, Document(staged=staged, filename=safe_filename(upload.filename))
    finally:
        await form.close()


async def _read_json(request: Request, settings: Settings, path: str) -> tuple[OcrFields, Document]:
    body = await read_json_body(request, inline_body_limit(settings.interactive_max_inline_bytes))
    fields = validated(OcrJson, body)
    fields.options()
    filename = safe_filename(fields.filename) if fields.filename else None
    if fields.url:
        check_url(fields.url, parse_allowlist(settings.url_allowlist))
        return fields, Document(url=fields.url, filename=filename)
    assert fields.image_base64 is not None
    data = decode_base64(fields.image_base64, settings.interactive_max_inline_bytes, "image_base64")
    staged = await stage_bytes(data, path, limits_of(settings))
    return fields, Document(staged=staged, filename=filename or "document")
