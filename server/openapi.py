"""The OpenAPI document as client generators read it, and the pages that show it.

FastAPI's defaults leak implementation details into generated clients: operation ids built
from the path (`upload_task_v1_tasks_upload_post`), form bodies named `Body_<operation id>`,
and a 422 documented as FastAPI's `{"detail": [...]}` although every error of this API has
the shape `{"error": ...}`. `operation_id` and `tidy` give stable names and the real shape.

`/docs` (Swagger UI) and `/redoc` load their scripts from the `fastapi-offline` wheel's assets,
served by the API itself: they work without internet access (no CDN).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
# FastAPI's own validation-error schemas; the API never answers with them
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def operation_id(route: APIRoute) -> str:
    """The route function's name (`upload_task`): stable, and unique across the app (tested)."""
    return route.name


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _renames(document: dict[str, Any]) -> dict[str, str]:
    renames = {name: "ErrorResponse" for name in _FASTAPI_ERROR_SCHEMAS}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if name.startswith("Body_"):
                    renames[name] = f"{_camel(operation['operationId'])}Form"
    return renames


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.removeprefix("#/components/schemas/")
            return {**node, "$ref": f"#/components/schemas/{renames.get(name, name)}"}
        return {key: _rewrite_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _errors_as_json(document: dict[str, Any]) -> None:
    """Errors are JSON on every route, also those whose success is HTML (`/ops`)."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and content and "application/json" not in content:
                    response["content"] = {"application/json": next(iter(content.values()))}


def tidy(document: dict[str, Any]) -> dict[str, Any]:
    """Form bodies named after their operation (`UploadTaskForm`), every reference to
    FastAPI's validation error pointed at `ErrorResponse`, and error bodies as JSON. Pure: a
    new document is returned."""
    renames = _renames(document)
    tidied: dict[str, Any] = _rewrite_refs(document, renames)
    _errors_as_json(tidied)
    schemas = tidied.get("components", {}).get("schemas", {})
    for old, new in renames.items():
        schema = schemas.pop(old, None)
        if schema is not None and new not in schemas:
            schemas[new] = {**schema, "title": new}
    return tidied


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the tidied document, built once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tidy(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_docs_pages(app: FastAPI) -> None:
    """`/docs` and `/redoc` from local assets. Create the app with `docs_url=None, redoc_url=None`."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(assets)), name="docs-assets")
    title = f"{app.title} API"

    def prefix(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = prefix(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = prefix(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
