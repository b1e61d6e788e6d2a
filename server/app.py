"""The FastAPI application: routers, error handlers and the shared clients in `app.state`."""

from __future__ import annotations

from fastapi import FastAPI

from server import health
from server.batches import endpoints as batch_endpoints
from server.errors import install_error_handlers
from server.events import endpoints as event_endpoints
from server.interactive import endpoints as interactive_endpoints
from server.limits import BodyLimit
from server.openai import chat as openai_chat
from server.openai import models as openai_models
from server.openai.errors import OpenAIErrorShape
from server.ops import endpoints as ops_endpoints
from server.ops.exposition import metrics_registry
from server.ops.http_metrics import HttpMetricsMiddleware
from server.tasks import endpoints as task_endpoints
from server.tasks import results as task_results
from server.webhooks import endpoints as webhook_endpoints
from shared.config import Settings, get_settings
from shared.events import make_event_feed, make_event_publisher
from shared.logs import configure_logging
from shared.queue import make_celery
from shared.storage import make_storage

# multipart framing and form fields on top of the file itself
UPLOAD_OVERHEAD_BYTES = 64 * 1024

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
    app.state.metrics_registry = metrics_registry(settings, app.state.celery)
    app.state.event_feed = make_event_feed(settings)
    app.state.event_publisher = make_event_publisher(settings)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default_limit=settings.max_json_body_bytes,
        # routes that take documents; every other route takes small JSON bodies
        upload_limits={
            "/v1/tasks/upload": settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
            "/v1/batches/upload": settings.batch_max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
            # these two also cap inline (base64, data: URL) documents themselves
            # (OCR_INTERACTIVE_MAX_INLINE_BYTES)
            "/v1/ocr": settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
            "/v1/chat/completions": settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
        },
    )
    app.add_middleware(OpenAIErrorShape)
    # outermost, so that requests refused by the body limit are counted too
    app.add_middleware(HttpMetricsMiddleware)
    app.include_router(health.router)
    app.include_router(task_endpoints.upload_router)
    app.include_router(task_endpoints.router)
    app.include_router(task_results.router)
    app.include_router(ops_endpoints.router)
    app.include_router(webhook_endpoints.router)
    app.include_router(batch_endpoints.upload_router)
    app.include_router(batch_endpoints.router)
    app.include_router(event_endpoints.router)
    app.include_router(interactive_endpoints.router)
    app.include_router(openai_chat.router)
    app.include_router(openai_models.router)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory server.app:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
