"""The FastAPI application: routers, error handlers, the shared clients in `app.state`, and the
request guards (body limits, the upload auth gate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from server import head, health
from server.admin import endpoints as admin_endpoints
from server.auth.gate import UploadAuthGate
from server.auth.key_cache import VerifiedKeys
from server.auth.ratelimit import make_rate_limiter
from server.batches import endpoints as batch_endpoints
from server.errors import install_error_handlers, responses
from server.events import endpoints as event_endpoints
from server.header_limits import HeaderCountLimit
from server.interactive import endpoints as interactive_endpoints
from server.limits import BodyLimit
from server.openai import chat as openai_chat
from server.openai import models as openai_models
from server.openai.errors import OpenAIErrorShape
from server.openapi import install_docs_pages, install_openapi, operation_id
from server.ops import endpoints as ops_endpoints
from server.ops.exposition import metrics_registry
from server.ops.http_metrics import HttpMetricsMiddleware
from server.reads import make_reads
from server.security_headers import SecurityHeaders
from server.tasks import endpoints as task_endpoints
from server.tasks import results as task_results
from server.webhooks import endpoints as webhook_endpoints
from server.webhooks import secret_endpoints as webhook_secret_endpoints
from shared.config import Settings, get_settings
from shared.events import make_event_feed, make_event_publisher
from shared.leftovers import remove_leftovers
from shared.logs import configure_logging, get_logger
from shared.queue import make_celery
from shared.storage import make_storage

log = get_logger(__name__)

# multipart framing and form fields on top of the file itself
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# what any authenticated route may answer besides its own statuses
AUTHENTICATED_RESPONSES: dict[int | str, dict[str, Any]] = responses(401, 403, 429, 503)

DESCRIPTION = """Asynchronous OCR: submit PDFs and images, poll the task, fetch markdown,
layout.json and figure crops. Every error has the shape `{"error": {"code", "message"}}`.
Every `/v1` route needs an API key: `Authorization: Bearer ocrp_...` (`ocrp keys create`)."""


def upload_limits(settings: Settings) -> dict[str, int]:
    """The routes that take documents, with their body limits; every other route takes small
    JSON bodies. These routes are also authenticated before their body is read."""
    document = settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES
    return {
        "/v1/tasks/upload": document,
        "/v1/batches/upload": settings.batch_max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
        # these two also cap inline (base64, data: URL) documents themselves
        # (OCR_INTERACTIVE_MAX_INLINE_BYTES)
        "/v1/ocr": document,
        "/v1/chat/completions": document,
    }


def include_authenticated(app: FastAPI, router: APIRouter) -> None:
    """Include a router whose routes take CallerDep/AdminDep, documenting 401/403/429/503."""
    app.include_router(router, responses=AUTHENTICATED_RESPONSES)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="ocrp",
        version="0.1.0",
        description=DESCRIPTION,
        generate_unique_id_function=operation_id,
        # served from local assets by install_docs_pages: FastAPI's own pages load a CDN
        docs_url=None,
        redoc_url=None,
    )
    install_openapi(app)
    install_docs_pages(app)
    app.state.settings = settings
    app.state.storage = make_storage(settings)
    app.state.reads = make_reads(settings)
    app.state.celery = make_celery(settings)
    app.state.metrics_registry = metrics_registry(settings, app.state.celery)
    app.state.event_feed = make_event_feed(settings)
    app.state.event_publisher = make_event_publisher(settings)
    app.state.rate_limiter = make_rate_limiter(settings)
    app.state.verified_keys = VerifiedKeys(settings.auth_cache_s)
    if not settings.auth_enabled:
        log.warning(
            "auth.disabled",
            message="OCR_AUTH_ENABLED=false: every request is the `default` owner with every "
            "scope. Never expose this API to a network.",
        )
    local_storage = settings.storage_dir if settings.storage_backend == "local" else None
    # what a killed API process left behind (its staging files, half-written objects)
    if removed := remove_leftovers(local_storage, settings.leftover_max_age_s):
        log.info("api.leftovers.removed", count=removed)
    install_error_handlers(app)
    limits = upload_limits(settings)
    # innermost: routes see a GET, every layer outside it the HEAD the client sent
    app.add_middleware(head.HeadAsGet)
    app.add_middleware(BodyLimit, default_limit=settings.max_json_body_bytes, upload_limits=limits)
    # an anonymous upload is refused before a byte of its body is read
    app.add_middleware(UploadAuthGate, state=app.state, upload_paths=tuple(limits))
    # outside the gate, so that its refusals get the OpenAI shape on those routes too
    app.add_middleware(OpenAIErrorShape)
    # outermost, so that requests refused by the body limit or the gate are counted too
    app.add_middleware(HttpMetricsMiddleware)
    # on every answer, refusals included
    app.add_middleware(SecurityHeaders)
    # before anything reads a header (the key check included)
    app.add_middleware(HeaderCountLimit, max_headers=settings.api_max_headers)
    app.include_router(health.router)
    for router in (
        task_endpoints.upload_router,
        task_endpoints.router,
        task_results.router,
        admin_endpoints.router,
        ops_endpoints.router,
        webhook_endpoints.router,
        webhook_secret_endpoints.router,
        batch_endpoints.upload_router,
        batch_endpoints.router,
        event_endpoints.router,
        interactive_endpoints.router,
        openai_chat.router,
        openai_models.router,
    ):
        include_authenticated(app, router)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory server.app:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
