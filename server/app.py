"""The FastAPI application: routers, error handlers and the shared clients in `app.state`."""

from __future__ import annotations

from fastapi import FastAPI

from server import health
from server.errors import install_error_handlers
from server.limits import BodyLimit
from server.tasks import endpoints as task_endpoints
from server.tasks import results as task_results
from shared.config import Settings, get_settings
from shared.logs import configure_logging
from shared.queue import make_celery
from shared.storage import make_storage

# multipart framing and form fields on top of the file itself
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# routes that take documents; every other route takes small JSON bodies
UPLOAD_PATHS = ("/v1/tasks/upload",)

DESCRIPTION = """Asynchronous OCR: submit PDFs and images, poll the task, fetch markdown,
layout.json and figure crops. Every error has the shape `{"error": {"code", "message"}}`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="ocrp",
        version="0.1.0",
        description=DESCRIPTION,
    )
    app.state.settings = settings
    app.state.storage = make_storage(settings)
    app.state.celery = make_celery(settings)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default_limit=settings.max_json_body_bytes,
        upload_limit=settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
        upload_paths=UPLOAD_PATHS,
    )
    app.include_router(health.router)
    app.include_router(task_endpoints.upload_router)
    app.include_router(task_endpoints.router)
    app.include_router(task_results.router)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory server.app:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
