"""JSON responses serialised by pydantic-core in one pass (what FastAPI's `response_model` path
does in two: validate into the model again, then `json.dumps` a dict of it)."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def model_response(
    model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
