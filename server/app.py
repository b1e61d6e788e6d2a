"""The FastAPI application: routers, error handlers, the shared clients in `app.state`, and the
request guards (body limits, the upload auth gate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from server import health
from server.admin import endpoints as admin_endpoints
from server.auth.gate import UploadAuthGate
from server.auth.ratelimit import make_rate_limiter
from server.errors import install_error_handlers, responses
from server.limits import BodyLimit
from server.tasks import endpoints as task_endpoints
from server.tasks import results as task_results
from shared.config import Settings, get_settings
from shared.logs import configure_logging, get_logger
from shared.queue import make_celery
from shared.storage import make_storage

log = get_logger(__name__)

# multipart framing and form fields on top of the file itself
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# routes that take documents; every other route takes small JSON bodies
UPLOAD_PATHS = ("/v1/tasks/upload",)
# what any authenticated route may answer besides its own statuses
AUTHENTICATED_RESPONSES: dict[int | str, dict[str, Any]] = responses(401, 403, 429, 503)

DESCRIPTION = """Asynchronous OCR: submit PDFs and images, poll the task, fetch markdown,
layout.json and figure crops. Every error has the shape `{"error": {"code", "message"}}`.
Every `/v1` route needs an API key: `Authorization: Bearer ocrp_...` (`ocrp keys create`)."""


def include_authenticated(app: FastAPI, router: APIRouter) -> None:
    """Include a router whose routes take CallerDep/AdminDep, documenting 401/403/429/503."""
    app.include_router(router, responses=AUTHENTICATED_RESPONSES)


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
    app.state.rate_limiter = make_rate_limiter(settings)
    if not settings.auth_enabled:
        log.warning(
            "auth.disabled",
            message="OCR_AUTH_ENABLED=false: every request is the `default` owner with every "
            "scope. Never expose this API to a network.",
        )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default_limit=settings.max_json_body_bytes,
        upload_limit=settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
        upload_paths=UPLOAD_PATHS,
    )
    # outermost: an anonymous upload is refused before a byte of its body is read
    app.add_middleware(UploadAuthGate, state=app.state, upload_paths=UPLOAD_PATHS)
    app.include_router(health.router)
    include_authenticated(app, task_endpoints.upload_router)
    include_authenticated(app, task_endpoints.router)
    include_authenticated(app, task_results.router)
    include_authenticated(app, admin_endpoints.router)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory server.app:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
