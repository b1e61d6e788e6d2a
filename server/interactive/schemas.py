"""Request bodies of `POST /v1/ocr`: the same options as a task, plus `stream`, and the
document as multipart `file`, or JSON `image_base64` or `url`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from server.tasks.schemas import OptionFields
from shared.errors import InvalidRequest


class OcrFields(OptionFields):
    """The plain fields, as multipart form fields or JSON members: the task options and
    `stream`."""

    stream: bool = Field(False, description="Stream the text as Server-Sent Events, then the result.")


class OcrJson(OcrFields):
    """`application/json`: exactly one of `image_base64` or `url`."""

    image_base64: str | None = Field(
        None, description="The document (PDF or image), base64; at most OCR_INTERACTIVE_MAX_INLINE_BYTES."
    )
    url: str | None = Field(None, max_length=4096, description="http(s) URL the worker downloads.")
    filename: str | None = Field(None, max_length=255, description="Name to record for the document.")

    @model_validator(mode="after")
    def _one_source(self) -> OcrJson:
        if bool(self.image_base64) == bool(self.url):
            raise InvalidRequest("give exactly one of image_base64 or url", "invalid_source")
        return self


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` put in place, for request bodies documented by
    hand (`openapi_extra`): a `#/$defs/...` reference would dangle in the OpenAPI document."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**resolve(definitions[ref.removeprefix("#/$defs/")]), **rest}
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
